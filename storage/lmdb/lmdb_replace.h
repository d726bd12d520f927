// Edit and recall in the LMDB store: functions over the caller's write
// transaction, called by Append (log.h). Private to
// storage/lmdb/. Corrupt records throw LmdbError, like every LMDB operation.
#pragma once

#include <cstdint>

#include "lmdb_env.h"
#include "requests.h"
#include "store.pb.h"

namespace courier::storage {

// The stored message an edit or recall replaces.
struct Original {
  uint64_t seq = 0;  // its body's sequence
  courier::store::v1::Body body;
};

// Finds the original of `r` (r.message.replaces() set) and checks what the
// store decides: it exists and is no edit or recall itself, is not recalled,
// has the same recipient, and is inside the window. Writes nothing.
ReplaceRefusal FindOriginal(const Txn& txn, MDB_dbi dedup, MDB_dbi copies, MDB_dbi bodies, const AppendRequest& r,
                            Original* out);

// Applies `m` (the edit or recall, appended as body `entry_seq`) to the
// original and to the bodies of its earlier edits: an edit gives them m's
// content and `edited`, a recall erases their content and sets `recalled`.
// Bodies retention already removed are skipped.
void ApplyReplace(Txn& txn, MDB_dbi bodies, Original& original, const courier::v1::Message& m, uint64_t entry_seq);

}  // namespace courier::storage
