// LmdbReader: the Reader (reader.h) of an LMDB store directory.
//
// Opens the environment read-only (MDB_RDONLY) and reads everything in one
// read transaction, so every call sees the snapshot of Open(), also while a
// broker writes. Reads schema 2 stores, and a schema 1 store's `log` (for
// `courier inspect` on an old store).
// Ownership: owns its environment and transaction; the directory's lock
// file must be writable (LMDB records readers there).
// Thread: one thread at a time.
// Failure: Open() returns NotFound when the directory holds no LMDB
// environment, Corruption when it is not a Courier store (no
// meta/schema_version), IoError otherwise; calls after it never throw.
#pragma once

#include <memory>
#include <string>

#include "reader.h"

namespace courier::storage {

Status OpenLmdbReader(const std::string& path, std::unique_ptr<Reader>* out);

}  // namespace courier::storage
