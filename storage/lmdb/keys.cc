#include "keys.h"

#include <cstring>

namespace courier::storage::keys {
namespace {

void AppendBigEndian(std::string* out, uint32_t v) {
  char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  out->append(b, 4);
}

void AppendBigEndian64(std::string* out, uint64_t v) {
  AppendBigEndian(out, static_cast<uint32_t>(v >> 32));
  AppendBigEndian(out, static_cast<uint32_t>(v));
}

uint32_t ReadBigEndian(std::string_view b4) {
  auto b = reinterpret_cast<const unsigned char*>(b4.data());
  return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | uint32_t(b[3]);
}

uint64_t ReadBigEndian64(std::string_view b8) {
  return (uint64_t(ReadBigEndian(b8.substr(0, 4))) << 32) | ReadBigEndian(b8.substr(4, 4));
}

void AppendBigEndian48(std::string* out, uint64_t v) {
  char b[6] = {char(v >> 40), char(v >> 32), char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  out->append(b, 6);
}

uint64_t ReadBigEndian48(std::string_view b6) {
  auto b = reinterpret_cast<const unsigned char*>(b6.data());
  uint64_t v = 0;
  for (int i = 0; i < 6; ++i) v = (v << 8) | b[i];
  return v;
}

std::string Joined(std::string_view a, std::string_view b) {
  std::string k;
  k.reserve(a.size() + 1 + b.size());
  k.append(a);
  k.push_back('\0');
  k.append(b);
  return k;
}

constexpr uint8_t kFlagReceived = 1;
constexpr uint8_t kFlagRead = 2;
constexpr uint8_t kFlagExpired = 4;
constexpr uint8_t kFlagDevice = 8;

}  // namespace

std::string BodyKey(uint64_t seq) { return EncodeSeq(seq); }
std::optional<uint64_t> ParseBodyKey(std::string_view key) { return DecodeSeq(key); }

std::string EncodeSeq(uint64_t seq) {
  std::string k;
  AppendBigEndian48(&k, seq);
  return k;
}

std::optional<uint64_t> DecodeSeq(std::string_view bytes) {
  if (bytes.size() != kSeqSize) return std::nullopt;
  return ReadBigEndian48(bytes);
}

std::string EncodeCopy(const CopyRecord& c) {
  std::string v;
  v.reserve(kCopyRecordSize);
  AppendBigEndian(&v, static_cast<uint32_t>(c.offset));
  AppendBigEndian48(&v, c.seq);
  uint8_t flags = 0;
  if (c.received) flags |= kFlagReceived;
  if (c.read) flags |= kFlagRead;
  if (c.expired) flags |= kFlagExpired;
  if (c.device) flags |= kFlagDevice;
  v.push_back(static_cast<char>(flags));
  return v;
}

std::optional<CopyRecord> DecodeCopy(std::string_view bytes) {
  if (bytes.size() != kCopyRecordSize) return std::nullopt;
  CopyRecord c;
  c.offset = static_cast<int32_t>(ReadBigEndian(bytes.substr(0, 4)));
  c.seq = ReadBigEndian48(bytes.substr(4, kSeqSize));
  const auto flags = static_cast<uint8_t>(bytes[4 + kSeqSize]);
  if (flags & ~(kFlagReceived | kFlagRead | kFlagExpired | kFlagDevice)) return std::nullopt;
  c.received = flags & kFlagReceived;
  c.read = flags & kFlagRead;
  c.expired = flags & kFlagExpired;
  c.device = flags & kFlagDevice;
  return c;
}

std::string CopyProbe(int32_t offset) {
  std::string v;
  v.reserve(kCopyRecordSize);
  AppendBigEndian(&v, static_cast<uint32_t>(offset));
  v.append(kCopyRecordSize - 4, '\0');
  return v;
}

std::string DedupKey(std::string_view sender, std::string_view id) { return Joined(sender, id); }
std::string CursorKey(std::string_view user, std::string_view device) { return Joined(user, device); }

std::string ExpiryKey(int64_t expires_ms, uint64_t seq, int32_t offset, std::string_view user) {
  std::string k;
  k.reserve(8 + kSeqSize + 4 + user.size());
  AppendBigEndian64(&k, static_cast<uint64_t>(expires_ms));
  AppendBigEndian48(&k, seq);
  AppendBigEndian(&k, static_cast<uint32_t>(offset));
  k.append(user);
  return k;
}

std::optional<ExpiryKeyParts> ParseExpiryKey(std::string_view key) {
  if (key.size() < 8 + kSeqSize + 4 + 1) return std::nullopt;
  ExpiryKeyParts p;
  p.expires_ms = static_cast<int64_t>(ReadBigEndian64(key.substr(0, 8)));
  p.seq = ReadBigEndian48(key.substr(8, kSeqSize));
  p.offset = static_cast<int32_t>(ReadBigEndian(key.substr(8 + kSeqSize, 4)));
  p.user = std::string(key.substr(8 + kSeqSize + 4));
  return p;
}

std::string EncodeCounter(int32_t value) {
  std::string out;
  AppendBigEndian(&out, static_cast<uint32_t>(value));
  return out;
}

std::optional<int32_t> DecodeCounter(std::string_view bytes) {
  if (bytes.size() != 4) return std::nullopt;
  return static_cast<int32_t>(ReadBigEndian(bytes));
}

std::string LogKey(std::string_view user, int32_t offset) {
  std::string k;
  k.reserve(user.size() + 5);
  k.append(user);
  k.push_back('\0');
  AppendBigEndian(&k, static_cast<uint32_t>(offset));
  return k;
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
