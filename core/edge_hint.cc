#include "edge_hint.h"

#include <array>
#include <limits>

namespace courier::core {
namespace {

constexpr std::string_view kMagic = "c1 ";
constexpr size_t kMaxEdgeBytes = 64;
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const auto b = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    *v |= uint64_t{b & 0x7fu} << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

bool GetBytes(std::string_view* in, std::string* out) {
  uint64_t n = 0;
  if (!GetVarint(in, &n) || n > in->size()) return false;
  out->assign(in->substr(0, n));
  in->remove_prefix(n);
  return true;
}

std::string Record(const EdgeHint& h) {
  std::string r;
  r.reserve(h.user.size() + h.payload.size() + 16);
  r.push_back(static_cast<char>(h.kind));
  r.push_back(static_cast<char>(h.qos));
  PutVarint(&r, static_cast<uint32_t>(h.offset));
  PutVarint(&r, h.user.size());
  r.append(h.user);
  PutVarint(&r, h.payload.size());
  r.append(h.payload);
  return r;
}

std::string Base64(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t n = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(n >> s) & 63]);
  }
  if (i < in.size()) {
    uint32_t n = uint32_t(uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) n |= uint32_t(uint8_t(in[i + 1])) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> Unbase64(std::string_view in) {
  static const std::array<int8_t, 256> kValue = [] {
    std::array<int8_t, 256> v{};
    v.fill(-1);
    for (int i = 0; i < 64; ++i) v[static_cast<uint8_t>(kAlphabet[i])] = static_cast<int8_t>(i);
    return v;
  }();
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    uint32_t n = 0;
    int pad = 0;
    for (size_t j = 0; j < 4; ++j) {
      const char c = in[i + j];
      if (c == '=' && i + 4 == in.size() && j >= 2) {
        ++pad;
        n <<= 6;
        continue;
      }
      const int8_t v = kValue[static_cast<uint8_t>(c)];
      if (v < 0 || pad > 0) return std::nullopt;
      n = n << 6 | static_cast<uint32_t>(v);
    }
    out.push_back(static_cast<char>(n >> 16));
    if (pad < 2) out.push_back(static_cast<char>(n >> 8 & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(n & 0xff));
  }
  return out;
}

std::optional<EdgeHint> ParseRecord(std::string_view* in) {
  if (in->size() < 2) return std::nullopt;
  EdgeHint h;
  const auto kind = static_cast<uint8_t>((*in)[0]);
  const auto qos = static_cast<uint8_t>((*in)[1]);
  in->remove_prefix(2);
  if (kind < 1 || kind > 3 || qos > 2) return std::nullopt;
  h.kind = static_cast<EdgeHint::Kind>(kind);
  h.qos = qos;
  uint64_t offset = 0;
  if (!GetVarint(in, &offset) || offset > uint64_t{std::numeric_limits<int32_t>::max()}) return std::nullopt;
  h.offset = static_cast<int32_t>(offset);
  if (!GetBytes(in, &h.user) || h.user.empty() || !GetBytes(in, &h.payload)) return std::nullopt;
  return h;
}

}  // namespace

bool IsValidEdgeId(std::string_view edge) {
  if (edge.empty() || edge.size() > kMaxEdgeBytes) return false;
  for (char c : edge) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::vector<std::string> EncodeHints(std::string_view edge, const std::vector<EdgeHint>& hints, size_t max_bytes,
                                     size_t* dropped) {
  std::vector<std::string> out;
  std::string header(kMagic);
  header.append(edge);
  header.push_back(' ');
  if (max_bytes <= header.size() + 4) return out;
  const size_t raw_max = (max_bytes - header.size()) / 4 * 3;  // base64: 4 characters per 3 bytes
  std::string raw;
  auto ship = [&] {
    if (raw.empty()) return;
    out.push_back(header + Base64(raw));
    raw.clear();
  };
  for (const EdgeHint& h : hints) {
    std::string r = Record(h);
    if (r.size() > raw_max && h.kind == EdgeHint::Kind::kInbox && h.offset > 0) {
      r = Record(EdgeHint{.kind = EdgeHint::Kind::kCatchUp, .user = h.user, .offset = 0, .qos = 0, .payload = {}});
    }
    if (r.size() > raw_max) {
      if (dropped) ++*dropped;
      continue;
    }
    if (raw.size() + r.size() > raw_max) ship();
    raw.append(r);
  }
  ship();
  return out;
}

std::optional<HintBatch> DecodeHints(std::string_view notification) {
  if (notification.substr(0, kMagic.size()) != kMagic) return std::nullopt;
  notification.remove_prefix(kMagic.size());
  const size_t space = notification.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  HintBatch batch;
  batch.edge.assign(notification.substr(0, space));
  if (!IsValidEdgeId(batch.edge)) return std::nullopt;
  auto raw = Unbase64(notification.substr(space + 1));
  if (!raw) return std::nullopt;
  std::string_view in(*raw);
  while (!in.empty()) {
    auto h = ParseRecord(&in);
    if (!h) return std::nullopt;
    batch.hints.push_back(std::move(*h));
  }
  return batch;
}

}  // namespace courier::core
