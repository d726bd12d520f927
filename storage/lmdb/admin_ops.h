// Administration in the LMDB store: applies an AdminRequest's operations in
// order, each with its own status (groups in groups.h; per-user state and
// push registrations here). A function over the caller's write transaction,
// called by LmdbStore. Private to storage/lmdb/.
// Failure: each operation's refusal is its own AdminOpResult::status; LMDB
// failures and corrupt records throw LmdbError and fail the whole batch.
#pragma once

#include "lmdb_env.h"
#include "requests.h"
#include "tables.h"

namespace courier::storage {

void Admin(Txn& txn, const Tables& t, const AdminRequest& r, AdminResult* out);

}  // namespace courier::storage
