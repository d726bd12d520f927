// Key and value encodings of the LMDB tables (schema version 2, see
// docs/architecture.md). Names never contain NUL (the core rejects such
// names), so NUL separates the parts of a composite key. Numbers are
// big-endian so that byte order is numeric order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace courier::storage::keys {

// bodies: body sequence (be48). Sequences only grow, so bodies are appended.
inline constexpr size_t kSeqSize = 6;
inline constexpr uint64_t kMaxSeq = (uint64_t{1} << 48) - 1;
std::string BodyKey(uint64_t seq);
std::optional<uint64_t> ParseBodyKey(std::string_view key);

// copies: key = user; one fixed-size value per copy (MDB_DUPSORT |
// MDB_DUPFIXED). The value starts with the copy's offset (be32), so a user's
// values sort by offset, and appends go at the end of the user's values.
struct CopyRecord {
  int32_t offset = 0;     // signal_offset in the user's log
  uint64_t seq = 0;       // the body it shows
  bool device = false;    // DEVICE copy (the sender's); else RECEIVER copy
  bool received = false;  // signal_ack_state.received
  bool read = false;      // signal_ack_state.read
  bool expired = false;   // RECEIVER copy: expired before any device received it
};
inline constexpr size_t kCopyRecordSize = 4 + kSeqSize + 1;
std::string EncodeCopy(const CopyRecord& c);
// nullopt when the bytes are not a copy record.
std::optional<CopyRecord> DecodeCopy(std::string_view bytes);
// Sorts before every record of `offset` and after every record of a lower
// offset: the value to seek a user's copy at `offset` (or the next one).
std::string CopyProbe(int32_t offset);

// dedup: sender \0 id -> the sender's offset of the original (be32). The key
// keeps the client's id order, so a sender's sequential ids insert next to
// each other and a commit touches few pages of this table.
std::string DedupKey(std::string_view sender, std::string_view id);
// A body sequence (be48): `bodies` keys, meta's body_seq.
std::string EncodeSeq(uint64_t seq);
std::optional<uint64_t> DecodeSeq(std::string_view bytes);
// cursors: user \0 device
std::string CursorKey(std::string_view user, std::string_view device);

// expiry index: expires_ms(be64) seq(be48) offset(be32) user, empty value.
// A walk from the start meets the earliest expiry first; with one default
// expiry, keys grow with the body sequence, so inserts land at the end.
std::string ExpiryKey(int64_t expires_ms, uint64_t seq, int32_t offset, std::string_view user);
struct ExpiryKeyParts {
  int64_t expires_ms = 0;
  uint64_t seq = 0;
  int32_t offset = 0;
  std::string user;
};
std::optional<ExpiryKeyParts> ParseExpiryKey(std::string_view key);

// refs: body sequence (be64) -> copies of the body not yet trimmed (be32).
// Written only by retention, from the body's copy count.

// Counter values (heads, conversation counters, cursors, dedup targets).
std::string EncodeCounter(int32_t value);
// nullopt when the bytes are not a counter.
std::optional<int32_t> DecodeCounter(std::string_view bytes);

// Schema version 1's `log` key, user \0 offset(be32): kept for tools that
// read old stores (LmdbReader, for courier inspect). Version 2 has no `log` table.
std::string LogKey(std::string_view user, int32_t offset);
// True when `key` is a log key of `user`; stores its offset in *offset.
bool ParseLogKey(std::string_view key, std::string_view user, int32_t* offset);

}  // namespace courier::storage::keys
