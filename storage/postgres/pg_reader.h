// PgReader: the Reader (reader.h) of a PostgreSQL store (PgStore's schema,
// pg_schema.h), for `courier inspect --pg` and `courier migrate`'s checks.
//
// Reads everything in one REPEATABLE READ READ ONLY transaction, held open
// for the Reader's life: every call sees the snapshot of its first query,
// also while edges write. Entries come out as LmdbReader gives them for the
// same logical content (body, message as delivered, flags, peers).
// Tables(): every courier_* table with its row count and pg_class.relpages
// as leaf pages.
// ScanPageSpace(): NotFound, nothing read (PostgreSQL's pages are per
// table, in Tables()). StoredCopies(): the rows of courier_copies.
// Ownership: owns its connection. Thread: one thread at a time.
// Failure: Open() returns kInvalid for a malformed conninfo, kIoError when
// the server cannot be reached, NotFound when the database has no Courier
// schema, Corruption for a schema version this build does not read. Calls
// after it never throw; a SQL failure leaves the rest of the calls empty.
#pragma once

#include <memory>
#include <string>

#include "reader.h"

namespace courier::storage {

Status OpenPgReader(const std::string& conninfo, std::unique_ptr<Reader>* out);

}  // namespace courier::storage
