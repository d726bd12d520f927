#include "keys.h"

#include <cstring>

namespace courier::storage::keys {
namespace {

void AppendBigEndian(std::string* out, uint32_t v) {
  char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  out->append(b, 4);
}

std::string Joined(std::string_view a, std::string_view b) {
  std::string k;
  k.reserve(a.size() + 1 + b.size());
  k.append(a);
  k.push_back('\0');
  k.append(b);
  return k;
}

}  // namespace

std::string LogKey(std::string_view user, int32_t offset) {
  std::string k;
  k.reserve(user.size() + 5);
  k.append(user);
  k.push_back('\0');
  AppendBigEndian(&k, static_cast<uint32_t>(offset));
  return k;
}

std::string DedupKey(std::string_view sender, std::string_view id) { return Joined(sender, id); }
std::string CursorKey(std::string_view user, std::string_view device) { return Joined(user, device); }

std::string ExpiryKey(int64_t expires_ms, std::string_view user, int32_t offset) {
  std::string k;
  k.reserve(8 + user.size() + 5);
  const auto v = static_cast<uint64_t>(expires_ms);
  AppendBigEndian(&k, static_cast<uint32_t>(v >> 32));
  AppendBigEndian(&k, static_cast<uint32_t>(v));
  k.append(user);
  k.push_back('\0');
  AppendBigEndian(&k, static_cast<uint32_t>(offset));
  return k;
}

std::optional<ExpiryKeyParts> ParseExpiryKey(std::string_view key) {
  if (key.size() < 8 + 1 + 1 + 4 || key[key.size() - 5] != '\0') return std::nullopt;
  auto hi = DecodeCounter(key.substr(0, 4));
  auto lo = DecodeCounter(key.substr(4, 4));
  auto off = DecodeCounter(key.substr(key.size() - 4));
  if (!hi || !lo || !off) return std::nullopt;
  ExpiryKeyParts p;
  p.expires_ms = static_cast<int64_t>((uint64_t(uint32_t(*hi)) << 32) | uint32_t(*lo));
  p.user = std::string(key.substr(8, key.size() - 8 - 5));
  p.offset = *off;
  return p;
}

std::string EncodeCounter(int32_t value) {
  std::string out;
  AppendBigEndian(&out, static_cast<uint32_t>(value));
  return out;
}

std::optional<int32_t> DecodeCounter(std::string_view bytes) {
  if (bytes.size() != 4) return std::nullopt;
  auto b = reinterpret_cast<const unsigned char*>(bytes.data());
  return static_cast<int32_t>((uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) |
                              (uint32_t(b[2]) << 8) | uint32_t(b[3]));
}

bool ParseLogKey(std::string_view key, std::string_view user, int32_t* offset) {
  if (key.size() != user.size() + 5) return false;
  if (key.substr(0, user.size()) != user || key[user.size()] != '\0') return false;
  auto v = DecodeCounter(key.substr(user.size() + 1));
  if (!v) return false;
  *offset = *v;
  return true;
}

}  // namespace courier::storage::keys
