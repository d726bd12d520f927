// Users' logs in the LMDB store: append (with dedup, group fan-out, expiry
// index, due pushes, edit and recall) and pull. Functions over the caller's
// transaction, called by LmdbStore. Private to storage/lmdb/.
//
// Failure: expected refusals come back as a Status (requests.h says which)
// and write nothing; LMDB failures and corrupt records throw LmdbError,
// which fails the caller's whole transaction.
#pragma once

#include <cstdint>
#include <optional>

#include "lmdb_env.h"
#include "requests.h"
#include "tables.h"

namespace courier::storage {

// The body sequence inside one write transaction: read from meta on first
// use, counted in memory, and written back once by Save() before commit.
class BodySeq {
 public:
  // Forget what was counted (a new transaction begins).
  void Reset() { last_.reset(); }
  // Throws LmdbError when meta's value is corrupt or the sequence is exhausted.
  uint64_t Next(const Txn& txn, const Tables& t);
  void Save(Txn& txn, const Tables& t) const;

 private:
  std::optional<uint64_t> last_;  // last one handed out in the open transaction
};

Status Append(Txn& txn, const Tables& t, BodySeq& seq, const AppendRequest& r, AppendResult* out);

// Entries of `r.user`'s log after `r.after`; see PullRequest. Writes nothing.
Status Pull(const Txn& txn, const Tables& t, const PullRequest& r, PullResult* out);

// The sender's copy of (sender, id), when (sender, id) was stored and not
// trimmed. Throws when the dedup record points at no copy.
std::optional<courier::v1::Message> FindSent(const Txn& txn, const Tables& t, const std::string& sender,
                                             const std::string& id);

}  // namespace courier::storage
