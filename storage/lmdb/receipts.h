// Delivery receipts in the LMDB store: ack flags, cursors, the undelivered
// count, the sender-side peer and a group message's counts. A function over
// the caller's write transaction, called by LmdbStore. Private to
// storage/lmdb/.
// Failure: NotFound / Invalid as ReceiptRequest says, writing nothing; LMDB
// failures and corrupt records throw LmdbError.
#pragma once

#include "lmdb_env.h"
#include "requests.h"
#include "tables.h"

namespace courier::storage {

Status Receipt(Txn& txn, const Tables& t, const ReceiptRequest& r, ReceiptResult* out);

}  // namespace courier::storage
