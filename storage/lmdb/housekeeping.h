// Housekeeping of the LMDB store: expiry of undelivered RECEIVER copies and
// retention (trimming entries every device has received). Functions over the
// caller's write transaction, called by LmdbStore in a transaction of their
// own. Private to storage/lmdb/.
// Failure: LMDB failures and corrupt records throw LmdbError.
#pragma once

#include <string>

#include "lmdb_env.h"
#include "requests.h"
#include "tables.h"

namespace courier::storage {

// See ExpireRequest.
void Expire(Txn& txn, const Tables& t, const ExpireRequest& r, ExpireResult* out);

// One slice of retention; see TrimRequest. `*resume` is the first user key
// the slice looks at, updated for the next slice (kept by the caller, in
// memory: after a restart retention starts over from the first user).
void Trim(Txn& txn, const Tables& t, const TrimRequest& r, std::string* resume, TrimResult* out);

}  // namespace courier::storage
