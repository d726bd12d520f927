// Key and value encodings of the LMDB tables. Names never contain NUL (the
// core rejects such names), so NUL separates the parts of a composite key.
// Offsets are big-endian in keys so that byte order is offset order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace courier::storage::keys {

// log: user \0 offset(be32)
std::string LogKey(std::string_view user, int32_t offset);
// dedup: sender \0 id
std::string DedupKey(std::string_view sender, std::string_view id);
// cursors: user \0 device
std::string CursorKey(std::string_view user, std::string_view device);

// expiry index: expires_ms(be64) user \0 offset(be32), so a walk from the
// start meets the earliest expiry first.
std::string ExpiryKey(int64_t expires_ms, std::string_view user, int32_t offset);
struct ExpiryKeyParts {
  int64_t expires_ms = 0;
  std::string user;
  int32_t offset = 0;
};
std::optional<ExpiryKeyParts> ParseExpiryKey(std::string_view key);

// Counter values (heads, conversation counters, cursors, dedup targets).
std::string EncodeCounter(int32_t value);
// nullopt when the bytes are not a counter.
std::optional<int32_t> DecodeCounter(std::string_view bytes);

// True when `key` is a log key of `user`; stores its offset in *offset.
bool ParseLogKey(std::string_view key, std::string_view user, int32_t* offset);

}  // namespace courier::storage::keys
