#include "counters.h"

#include <climits>

#include "keys.h"

namespace courier::storage {

int32_t Increment(Txn& txn, MDB_dbi dbi, const std::string& key) {
  int32_t next = 1;
  if (auto v = txn.Get(dbi, key)) {
    auto cur = keys::DecodeCounter(*v);
    if (!cur) throw LmdbError(MDB_CORRUPTED, "counter has a bad length");
    // Offsets are int32 on the wire and must never wrap.
    if (*cur == INT32_MAX) throw LmdbError(MDB_BAD_VALSIZE, "offset counter exhausted");
    next = *cur + 1;
  }
  txn.Put(dbi, key, keys::EncodeCounter(next));
  return next;
}

void Decrement(Txn& txn, MDB_dbi dbi, const std::string& key) {
  if (auto v = txn.Get(dbi, key)) {
    auto cur = keys::DecodeCounter(*v);
    if (cur && *cur > 0) txn.Put(dbi, key, keys::EncodeCounter(*cur - 1));
  }
}

int32_t ReadCounter(const Txn& txn, MDB_dbi dbi, const std::string& key) {
  auto v = txn.Get(dbi, key);
  if (!v) return 0;
  auto cur = keys::DecodeCounter(*v);
  if (!cur) throw LmdbError(MDB_CORRUPTED, "counter has a bad length");
  return *cur;
}

}  // namespace courier::storage
