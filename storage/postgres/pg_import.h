// ImportIntoPg: copies a whole store, as a Reader (reader.h) gives it, into
// an empty PostgreSQL Courier schema (pg_schema.h), for `courier migrate`
// (LMDB to PostgreSQL). What a PgStore then opens continues where the source
// stopped: same offsets, heads (also above the last entry retention left),
// conversation counters, body sequences, dedup ids, receipts, expiry,
// cursors, groups and pushes. docs/migrate.md has the table-by-table mapping.
//
// Ownership: borrows the Reader; opens and closes its own connection.
// Thread: the caller's; blocks on the network.
// Failure: returns a Status and writes nothing (one transaction, rolled back
// by closing the connection) when the database cannot be reached (kIoError),
// already holds Courier rows (kInvalid, naming the table), or when the
// source holds a record the Reader cannot decode or that points nowhere
// (kCorruption, naming it). The schema itself is created when absent, in a
// transaction of its own, as PgStore does. No message holds the password.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "reader.h"

namespace courier::storage {

// What one import copied.
struct ImportCounts {
  int64_t users = 0;  // logs (heads)
  int64_t entries = 0;
  int64_t bodies = 0;
  int64_t conversations = 0;
  int64_t cursors = 0;
  int64_t dedup = 0;
  int64_t groups = 0;
  int64_t push_regs = 0;
  int64_t due_pushes = 0;
  uint64_t body_sequence = 0;  // where the target's body sequence continues from
};

// Called after each batch of entries with the entries copied so far.
using ImportProgress = std::function<void(int64_t entries)>;

Status ImportIntoPg(Reader& from, const std::string& conninfo, ImportCounts* out, ImportProgress progress = {});

}  // namespace courier::storage
