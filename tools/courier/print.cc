#include "print.h"

#include <array>

#include <fmt/format.h>

#include "protocol.h"

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

std::string identity(const v1::Identity& id) {
  return id.device().empty() ? token(id.user()) : token(id.user() + "/" + id.device());
}

std::string ack_state(const v1::SignalAckState& a) {
  if (a.read()) return "read";
  if (a.received()) return "delivered";
  if (a.send()) return "sent";
  return "none";
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

std::string kind_name(int signal_type) {
  switch (signal_type) {
    case kSender: return "SENDER";
    case kDevice: return "DEVICE";
    case kReceiver: return "RECEIVER";
    default: return std::to_string(signal_type);
  }
}

std::string status_name(int status) {
  static constexpr std::array<const char*, 8> kNames = {
      "CHATTING", "RECORDING", "PLAYED", "TYPING", "PAUSED", "CANCELLED", "RESUME", "NOTIFICATION"};
  if (status >= 1 && status <= static_cast<int>(kNames.size())) return kNames[status - 1];
  return std::to_string(status);
}

std::string format_message(const v1::Message& m) {
  std::string line = fmt::format("message offset={} user_offset={} from={} to={} kind={} id={}",
                                 m.signal_offset(), m.user_offset(), identity(m.from()),
                                 token(m.to().user()), kind_name(m.signal_type()), token(m.id()));
  if (!m.to().group().empty()) line += fmt::format(" group={}", token(m.to().group()));
  if (m.has_signal_ack_state() && ack_state(m.signal_ack_state()) != "none") {
    line += fmt::format(" state={}", ack_state(m.signal_ack_state()));
  }
  if (!m.encryption_type().empty() && m.encryption_type() != "none") {
    line += fmt::format(" encryption={}", token(m.encryption_type()));
  }
  if (m.transient()) line += " transient=true";
  line += ' ';
  line += quote(m.payload());
  return line;
}

std::string format_signal(const v1::Signal& s) {
  if (s.type() == kError) {
    return fmt::format("signal error id={} error={}", token(s.id()), quote(s.error()));
  }
  if (s.status() != 0) {
    std::string line = fmt::format("signal activity from={}", identity(s.from()));
    if (!s.to().user().empty()) line += fmt::format(" to={}", token(s.to().user()));
    if (!s.to().group().empty()) line += fmt::format(" group={}", token(s.to().group()));
    line += fmt::format(" status={}", status_name(s.status()));
    return line;
  }
  if (s.type() == kResponse && s.signal_request() == kPull) {
    return fmt::format("signal pull-response head={} count={}", s.signal_offset(), s.limit());
  }
  const bool is_ack = s.signal_type() == kDevice || s.signal_type() == kReceiver ||
                      (s.signal_type() == kSender && s.signal_offset_state());
  if (s.type() == kResponse && is_ack) {
    std::string line =
        fmt::format("signal kind={} id={} offset={} user_offset={} state={}",
                    kind_name(s.signal_type()), token(s.id()), s.signal_offset(),
                    s.user_offset(), ack_state(s.signal_ack_state()));
    if (!s.from().user().empty()) line += fmt::format(" from={}", identity(s.from()));
    return line;
  }
  if (s.type() == kResponse && !s.signal_offset_state()) {
    std::string line = fmt::format("signal transient id={}", token(s.id()));
    if (s.has_error()) line += fmt::format(" error={}", quote(s.error()));
    return line;
  }
  return fmt::format("signal other type={} kind={} id={} offset={} user_offset={}", s.type(),
                     kind_name(s.signal_type()), token(s.id()), s.signal_offset(),
                     s.user_offset());
}

}  // namespace courier::cli
