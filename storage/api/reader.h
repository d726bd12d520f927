// Reader: a read-only view of a store, for what reads a store from outside
// the broker (`courier inspect`, the bench's store size report, end-of-test
// checks). Engines provide one each (LMDB: lmdb_reader.h), opened from the
// store's location; callers hold it as a Reader and know no engine.
//
// Ownership: the caller owns the Reader; it never writes, and may be open
// while a broker writes the same store.
// Snapshot: every call of one Reader reads the same consistent snapshot,
// taken when it was opened.
// Thread: not thread-safe; one thread at a time.
// Failure: no call throws. Records the reader cannot decode come back as
// such (StoredEntry::undecodable_bytes, a nullopt body or group) rather than
// failing the call, since a reader is how a damaged store is examined.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "messaging.pb.h"
#include "requests.h"
#include "status.h"
#include "store.pb.h"

namespace courier::storage {

// One table of the store (an LMDB sub-database, a SQL table) and its size.
// Page counts are the engine's own pages, 0 when it has none.
struct TableSize {
  std::string name;
  int64_t records = 0;
  int64_t leaf_pages = 0;
  int64_t branch_pages = 0;
  int64_t overflow_pages = 0;
  int page_size = 0;
};

// How the store's file is used, page by page: for LMDB what
// `mdb_stat -e -f -a` shows. Counts are pages of page_size bytes.
struct PageSpace {
  int page_size = 0;
  // Pages of the store's file in use: every page below, and the engine's
  // own header pages (LMDB: its 2 meta pages).
  int64_t pages_used = 0;
  TableSize catalog;              // the table of tables (LMDB: the main database, named "Main DB")
  std::vector<TableSize> tables;  // as Tables() gives them
  // Pages of the trees nested in a table's records, which that table's
  // TableSize does not count (LMDB: the per-key sub-databases of the
  // MDB_DUPSORT table, the keys whose values outgrew a page), and the
  // table(s) they belong to (names joined by ", "; empty when none).
  int64_t nested_pages = 0;
  std::string nested_in;
  int64_t free_pages = 0;      // on the freelist: free for later commits to reuse
  int64_t freelist_pages = 0;  // of the freelist's own tree
};

// Bytes of one table's records, from a full scan, with its pages.
struct TableSpace {
  TableSize size;
  int64_t records = 0;    // counted by the scan
  int64_t key_bytes = 0;  // for copies: the user key, counted once per user
  int64_t value_bytes = 0;
};

// How the stored messages use space: the bodies (one record per message:
// courier.store.v1.Body) and the copies (one per stored copy).
struct MessageSpace {
  TableSpace bodies;
  TableSpace copies;
  int64_t payload_bytes = 0;  // Body.message.payload, estimated from a sample of the bodies
  int64_t sampled = 0;        // bodies that were sampled and parsed
};

// One entry of a user's log as stored.
struct StoredEntry {
  std::string user;
  int32_t offset = 0;     // the entry's offset in the user's log
  uint64_t body_id = 0;   // the stored body it shows (schema 2)
  bool device = false;    // the sender's DEVICE copy
  bool expired = false;   // expired before any device received it
  bool received = false;  // the copy's receipt flags (also in message.signal_ack_state)
  bool read = false;
  // The body (schema 2); nullopt when it is missing or does not parse.
  std::optional<courier::store::v1::Body> body;
  // A schema 1 store's record of the entry, instead of a body.
  std::optional<courier::store::v1::Entry> legacy;
  courier::v1::Message message;  // as a device receives it (when body or legacy is set)
  // The counterpart copy, when the store knows it: the sender's copy of a
  // RECEIVER copy, the receiver's copy of a 1:1 DEVICE copy.
  std::string peer_user;
  int32_t peer_offset = 0;
  size_t undecodable_bytes = 0;  // > 0: the entry's record did not decode; nothing else is set
};

struct Counter {
  std::string key;  // user; conversation key
  int32_t value = 0;
};

struct DeviceCursor {
  std::string user, device;
  int32_t offset = 0;
};

struct DedupEntry {
  std::string sender, id;
  int32_t offset = 0;  // the sender's offset of the message
};

// One push registration or due push, as stored (records nullopt when they
// do not parse).
struct StoredPushReg {
  std::string user, device;
  std::optional<courier::store::v1::PushReg> reg;
};
struct StoredPushDue {
  std::string user, device;
  int32_t offset = 0;
  std::optional<courier::store::v1::PushDue> due;
};

struct StoredGroup {
  std::string name;
  std::optional<courier::store::v1::Group> group;  // nullopt when the record does not parse
};

class Reader {
 public:
  virtual ~Reader() = default;

  // The store's schema version ("2").
  virtual std::string schema_version() const = 0;
  // Every table with its size, in name order.
  virtual std::vector<TableSize> Tables() = 0;
  // Full scan of the message tables; IoError when they cannot be read.
  virtual Status ScanMessageSpace(MessageSpace* out) = 0;
  // The pages of the whole store, from the snapshot (no scan of records).
  // NotFound, with *out untouched, when the engine keeps no pages of its own
  // (PostgreSQL: its tables' pages are in Tables()); IoError when they
  // cannot be read.
  virtual Status ScanPageSpace(PageSpace* out) = 0;
  // Stored copies: the entries of every user's log (a 1:1 message stores
  // two). 0 when the store has none or they cannot be read.
  virtual int64_t StoredCopies() = 0;

  // Every user with a log and its head (highest offset), in user order.
  virtual std::vector<Counter> Heads() = 0;
  // Every conversation counter (the highest user_offset), in key order.
  virtual std::vector<Counter> Conversations() = 0;
  virtual std::vector<DeviceCursor> Cursors() = 0;
  virtual std::vector<DedupEntry> DedupEntries() = 0;
  virtual std::vector<StoredGroup> Groups() = 0;
  // Push registrations of `user`'s devices, in device order.
  virtual std::vector<AdminOpResult::PushReg> PushRegistrations(const std::string& user) = 0;
  // Every user's count of log entries no device has received (non-zero
  // ones), in user order.
  virtual std::vector<Counter> Undelivered() = 0;
  // Every push registration, in (user, device) order, and every due push,
  // in (user, device, offset) order: what a copy of the store needs.
  virtual std::vector<StoredPushReg> PushRegs() = 0;
  virtual std::vector<StoredPushDue> DuePushes() = 0;
  // The last body sequence handed out (no body of a higher one exists);
  // 0 when the store has none.
  virtual uint64_t BodySequence() = 0;

  // Entries of each (user, first offset) in `from`: the user's log from that
  // offset on, in offset order, with peers resolved. Expired entries are
  // included (StoredEntry::expired).
  virtual std::vector<StoredEntry> Entries(const std::vector<std::pair<std::string, int32_t>>& from) = 0;
};

}  // namespace courier::storage
