// Test support for the LMDB engine: writes what no Store request may write,
// to forge a store of another build or a damaged record, so that tests
// outside storage/ need no LMDB header and no table name. For tests only;
// the plugin and the tools never call it (it is in courier_storage_lmdb so
// that a test needs no other library, and a static library links in only
// what is called).
//
// Contract: `path` is an LMDB store directory that LmdbStore::Open created
// and that no process has open for writing (close the LmdbStore, stop the
// broker first). Each call is one write transaction, committed before it
// returns; a failed call writes nothing.
// Thread: any thread; one call at a time per store.
// Failure: nothing throws. IoError (with LMDB's message) when the store
// cannot be opened or written; NotFound when the table to write is missing,
// or the key to delete is.
#pragma once

#include <optional>
#include <string>

#include "status.h"

namespace courier::storage {

// Sets the store's schema version to `version` (a store of another build:
// LmdbStore::Open refuses it), or deletes it when `version` is nullopt (a
// store whose version is missing).
Status WriteSchemaVersionForTesting(const std::string& path, const std::optional<std::string>& version);

// Stores `bytes` as the record of group `group`, whether or not they parse
// as a courier.store.v1.Group: a damaged group record.
Status WriteGroupRecordForTesting(const std::string& path, const std::string& group, const std::string& bytes);

}  // namespace courier::storage
