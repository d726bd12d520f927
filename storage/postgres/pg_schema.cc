#include "pg_schema.h"

namespace courier::storage {
namespace {

// Held while the schema is checked or created.
constexpr int64_t kSchemaLockKey = 0x436f75726965ff01;  // "Courie" + 0xff01

const char* const kCreate[] = {
    "CREATE TABLE courier_schema (version int NOT NULL)",
    "CREATE TABLE courier_heads (usr bytea PRIMARY KEY, head int NOT NULL DEFAULT 0,"
    " undelivered int NOT NULL DEFAULT 0)",
    "CREATE TABLE courier_convs (conv bytea PRIMARY KEY, n int NOT NULL DEFAULT 0)",
    "CREATE SEQUENCE courier_body_seq",
    "CREATE TABLE courier_bodies (seq bigint PRIMARY KEY, body bytea NOT NULL, refs int NOT NULL,"
    " sender bytea NOT NULL, sender_off int NOT NULL, expires_ms bigint NOT NULL, ts bigint NOT NULL)",
    "CREATE TABLE courier_copies (usr bytea NOT NULL, off int NOT NULL, seq bigint NOT NULL, device bool NOT NULL,"
    " received bool NOT NULL, read bool NOT NULL, expired bool NOT NULL, dedup_id bytea, expiry_at bigint,"
    " PRIMARY KEY (usr, off))",
    // Dedup by (sender, id): the DEVICE copy carries the id.
    "CREATE UNIQUE INDEX courier_copies_dedup ON courier_copies (usr, dedup_id) WHERE dedup_id IS NOT NULL",
    // The expiry sweep walks it in LMDB's expiry key order.
    "CREATE INDEX courier_copies_expiry ON courier_copies (expiry_at, seq, off, usr) WHERE expiry_at IS NOT NULL",
    "CREATE TABLE courier_cursors (usr bytea NOT NULL, device bytea NOT NULL, cur int NOT NULL,"
    " PRIMARY KEY (usr, device))",
    "CREATE TABLE courier_groups (name bytea PRIMARY KEY, body bytea NOT NULL)",
    "CREATE TABLE courier_push_regs (usr bytea NOT NULL, device bytea NOT NULL, reg bytea NOT NULL,"
    " PRIMARY KEY (usr, device))",
    // The push scan walks the primary key; receipts clear an entry's pushes by (usr, off).
    "CREATE TABLE courier_push_due (usr bytea NOT NULL, device bytea NOT NULL, off int NOT NULL,"
    " due bytea NOT NULL, PRIMARY KEY (usr, device, off))",
    "CREATE INDEX courier_push_due_entry ON courier_push_due (usr, off)",
};

}  // namespace

Status EnsureSchema(PgConn& db, int version, bool* created) {
  *created = false;
  db.Send("BEGIN");
  db.Send("SELECT pg_advisory_xact_lock($1)", Params().Int8(kSchemaLockKey));
  PgResult t = db.Fetch("SELECT to_regclass('courier_schema') IS NOT NULL");
  if (!t.boolean(0, 0)) {
    for (const char* sql : kCreate) db.Send(sql);
    db.Send("INSERT INTO courier_schema (version) VALUES ($1)", Params().Int4(version));
    db.Send("COMMIT");
    db.Sync();
    *created = true;
    return Status::Ok();
  }
  PgResult v = db.Fetch("SELECT version FROM courier_schema");
  db.Send("COMMIT");
  db.Sync();
  if (v.rows() != 1) {
    return Status::Corruption("table courier_schema has " + std::to_string(v.rows()) + " rows; it must have one");
  }
  const int64_t found = v.integer(0, 0);
  if (found != version) {
    return Status::Corruption("postgres database has courier schema version " + std::to_string(found) +
                              "; this build reads version " + std::to_string(version));
  }
  return Status::Ok();
}

}  // namespace courier::storage
