// LmdbReader: the Reader (reader.h) of an LMDB store directory.
//
// Opens the environment read-only (MDB_RDONLY) and reads everything in one
// read transaction, so every call sees the snapshot of Open(), also while a
// broker writes. Reads schema 2 stores, and a schema 1 store's `log` (for
// `courier inspect` on an old store).
// ScanPageSpace() gives what `mdb_stat -e -f -a` shows: the main database
// as the catalog, every table's tree, the freelist, and as nested pages the
// pages no tree claims (the per-user sub-databases of `copies`, which LMDB's
// statistics do not count). Its pages in use are the snapshot's unless
// writers commit without pause while the reader opens (it tries 10 times),
// then a later commit's.
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
