// Counters of the LMDB store (heads, conversation counters, cursors,
// undelivered counts): be32 values read and written inside the caller's
// transaction. Private to storage/lmdb/.
// Failure: a counter of the wrong size throws LmdbError (MDB_CORRUPTED); an
// offset counter at INT32_MAX throws (MDB_BAD_VALSIZE) rather than wrap.
#pragma once

#include <cstdint>
#include <string>

#include "lmdb_env.h"

namespace courier::storage {

// Reads a counter (0 when missing) and stores counter + 1; returns it.
int32_t Increment(Txn& txn, MDB_dbi dbi, const std::string& key);
// Stores counter - 1 unless it is missing or already 0.
void Decrement(Txn& txn, MDB_dbi dbi, const std::string& key);
// The counter, 0 when missing.
int32_t ReadCounter(const Txn& txn, MDB_dbi dbi, const std::string& key);

}  // namespace courier::storage
