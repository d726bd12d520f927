// Reading and rewriting the LMDB store's records inside the caller's
// transaction. Private to storage/lmdb/. A record that is missing where the
// schema says it must exist, or that does not decode, throws LmdbError
// (MDB_CORRUPTED); LmdbStore turns that into a Status.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "keys.h"
#include "lmdb_env.h"
#include "store.pb.h"

namespace courier::storage {

// The body with sequence `seq`; throws when it is missing.
courier::store::v1::Body ReadBody(const Txn& txn, MDB_dbi bodies, uint64_t seq);
// The same, nullopt when it is missing (retention removed it).
std::optional<courier::store::v1::Body> FindBody(const Txn& txn, MDB_dbi bodies, uint64_t seq);

keys::CopyRecord DecodeCopyOrThrow(std::string_view bytes);

// The copy at `offset` of `user`'s log, or nullopt.
std::optional<keys::CopyRecord> ReadCopy(const Txn& txn, MDB_dbi copies, const std::string& user, int32_t offset);

// Rewrites the copy record of `user` at c.offset in place (same size, same place).
void RewriteCopy(const Txn& txn, MDB_dbi copies, const std::string& user, const keys::CopyRecord& c);

}  // namespace courier::storage
