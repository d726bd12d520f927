// The PostgreSQL schema of the store (version PgStore::kSchemaVersion) and
// its creation. Private to storage/postgres/.
//
// Tables (names are bytea: any bytes but NUL, compared like LMDB's keys):
//   courier_schema     (version)                          one row
//   courier_heads      usr -> head, undelivered           locked FOR UPDATE by appends and receipts
//   courier_convs      conv -> n                          user_offset counters
//   courier_bodies     seq -> body (store.v1.Body), refs, sender, sender_off, expires_ms, ts
//   courier_copies     (usr, off) -> seq, flags, dedup_id (DEVICE copies), expiry_at (expiry index)
//   courier_cursors    (usr, device) -> cur
//   courier_groups     name -> body (store.v1.Group)
//   courier_push_regs  (usr, device) -> reg (store.v1.PushReg)
//   courier_push_due   (usr, device, off) -> due (store.v1.PushDue)
// Body sequences come from courier_body_seq: gaps there are harmless, they
// never reach a client.
//
// Failure: SQL errors throw PgError.
#pragma once

#include <string>

#include "pg_conn.h"
#include "status.h"

namespace courier::storage {

// Creates the schema when it is absent, under a transaction-level advisory
// lock (edges starting together do not race), or checks its version.
// Returns kCorruption for an unknown version; sets *created when it created it.
Status EnsureSchema(PgConn& db, int version, bool* created);

}  // namespace courier::storage
