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
