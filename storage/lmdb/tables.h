// The tables of the LMDB store (schema version 2, docs/architecture.md) and
// opening them. Private to storage/lmdb/.
//
// Thread: OpenTables runs inside the caller's transaction; the handles it
// returns stay valid for the environment's life and may be used by any
// later transaction of it.
// Failure: LMDB errors throw LmdbError; a table missing in a read-only
// environment is left as kNoTable.
#pragma once

#include <lmdb.h>

#include <cstdint>

#include "lmdb_env.h"

namespace courier::storage {

inline constexpr MDB_dbi kNoTable = UINT32_MAX;

struct Tables {
  MDB_dbi meta = kNoTable;         // schema_version, body_seq
  MDB_dbi copies = kNoTable;       // user -> copy records (dupsort, dupfixed)
  MDB_dbi bodies = kNoTable;       // seq -> courier.store.v1.Body
  MDB_dbi refs = kNoTable;         // seq -> copies not yet trimmed
  MDB_dbi heads = kNoTable;        // user -> highest offset
  MDB_dbi dedup = kNoTable;        // sender \0 id -> sender offset
  MDB_dbi convs = kNoTable;        // conversation key -> highest user_offset
  MDB_dbi cursors = kNoTable;      // user \0 device -> cursor
  MDB_dbi undelivered = kNoTable;  // user -> RECEIVER copies no device received
  MDB_dbi groups = kNoTable;       // name -> courier.store.v1.Group
  MDB_dbi expiry = kNoTable;       // expiry index (keys.h)
  MDB_dbi push_regs = kNoTable;    // lmdb_push.h
  MDB_dbi push_due = kNoTable;     // lmdb_push.h
};

// Opens every table; with `create`, creates the missing ones (a write
// transaction), else leaves them kNoTable.
Tables OpenTables(const Txn& txn, bool create);

// meta's keys.
inline constexpr const char* kBodySeqKey = "body_seq";  // the last body sequence handed out

// LMDB's key limit (511 bytes in Debian's build). A request whose keys do
// not fit fails alone, before it writes anything.
bool KeysFit(const Txn& txn, std::initializer_list<size_t> sizes);
// The longest key the environment takes, in bytes.
size_t MaxKeySize(const Txn& txn);

}  // namespace courier::storage
