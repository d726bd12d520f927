#include "print.h"

#include <array>
#include <cctype>
#include <cstdio>
#include <mutex>
#include <optional>

#include <fmt/format.h>

namespace courier::cli {
namespace {

// Length of the valid UTF-8 sequence of 2..4 bytes at the start of `s`, or 0.
size_t utf8_sequence(std::string_view s) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  size_t n = 0;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    n = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    n = 3;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    n = 4;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) return 0;
  }
  return n;
}

}  // namespace

std::string quote(std::string_view bytes) {
  std::string out = "\"";
  for (size_t i = 0; i < bytes.size();) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else if (size_t n = c >= 0x80 ? utf8_sequence(bytes.substr(i)) : 0; n > 0) {
      out.append(bytes.substr(i, n));
      i += n;
      continue;
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
    ++i;
  }
  out += '"';
  return out;
}

std::string token(std::string_view s) {
  if (s.empty()) return quote(s);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '=') return quote(s);
  }
  return std::string(s);
}

std::string kind_name(client::Kind kind) {
  switch (kind) {
    case client::Kind::kSender: return "SENDER";
    case client::Kind::kDevice: return "DEVICE";
    case client::Kind::kReceiver: return "RECEIVER";
    default: return std::to_string(static_cast<int>(kind));
  }
}

namespace {
constexpr std::array<const char*, 8> kStatusNames = {"CHATTING", "RECORDING", "PLAYED", "TYPING",
                                                     "PAUSED",   "CANCELLED", "RESUME", "NOTIFICATION"};
}  // namespace

std::string status_name(client::Status status) {
  const int s = static_cast<int>(status);
  if (s >= 1 && s <= static_cast<int>(kStatusNames.size())) return kStatusNames[s - 1];
  return std::to_string(s);
}

std::optional<client::Status> parse_status(std::string_view name) {
  for (size_t i = 0; i < kStatusNames.size(); ++i) {
    std::string_view n = kStatusNames[i];
    if (n.size() != name.size()) continue;
    bool same = true;
    for (size_t j = 0; j < n.size(); ++j) {
      if (std::toupper(static_cast<unsigned char>(name[j])) != n[j]) same = false;
    }
    if (same) return static_cast<client::Status>(i + 1);
  }
  if (name.size() == 1 && name[0] >= '1' && name[0] <= '8') { return static_cast<client::Status>(name[0] - '0'); }
  return std::nullopt;
}

std::string state_name(const client::AckState& a) {
  if (a.read) return "read";
  if (a.received) return "delivered";
  if (a.sent) return "sent";
  return "none";
}

std::string identity(const client::Identity& id) {
  return id.device.empty() ? token(id.user) : token(id.user + "/" + id.device);
}

std::string format_message(const client::Message& m) {
  std::string line = fmt::format("message offset={} user_offset={} from={} to={} kind={} id={}", m.offset,
                                 m.user_offset, identity(m.from), token(m.to.user), kind_name(m.kind), token(m.id));
  if (!m.to.group.empty()) line += fmt::format(" group={}", token(m.to.group));
  if (state_name(m.state) != "none") line += fmt::format(" state={}", state_name(m.state));
  if (!m.encryption_type.empty() && m.encryption_type != "none") {
    line += fmt::format(" encryption={}", token(m.encryption_type));
  }
  if (m.transient) line += " transient=true";
  if (!m.replaces.empty()) line += fmt::format(" replaces={}", token(m.replaces));
  if (m.recall || m.recalled) return line + " (message recalled)";
  line += ' ';
  line += quote(m.payload);
  if (m.edited || !m.replaces.empty()) line += " (edited)";
  return line;
}

std::string format_receipt(const client::Receipt& r) {
  std::string line = fmt::format("signal kind={} id={} offset={} user_offset={} state={}", kind_name(r.kind),
                                 token(r.id), r.offset, r.user_offset, state_name(r.state));
  if (!r.from.user.empty()) line += fmt::format(" from={}", identity(r.from));
  return line;
}

std::string format_activity(const client::Activity& a) {
  std::string line = fmt::format("signal activity from={}", identity(a.from));
  if (!a.to.user.empty()) line += fmt::format(" to={}", token(a.to.user));
  if (!a.to.group.empty()) line += fmt::format(" group={}", token(a.to.group));
  line += fmt::format(" status={}", status_name(a.status));
  return line;
}

std::string format_error(const client::ServerError& e) {
  const std::string text = e.detail.empty() ? e.code : e.code + ": " + e.detail;
  return fmt::format("signal {} id={} error={}", e.permanent ? "error" : "transient", token(e.id), quote(text));
}

namespace {
std::mutex& output_mutex() {
  static std::mutex mu;
  return mu;
}
}  // namespace

bool emit(const std::string& line) {
  std::lock_guard lock(output_mutex());
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  return std::fflush(stdout) == 0 && !std::ferror(stdout);
}

void emit_err(const std::string& line) {
  std::lock_guard lock(output_mutex());
  std::fputs(line.c_str(), stderr);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace courier::cli
