#include "store_stats.h"

#include <lmdb.h>

#include "store.pb.h"

namespace courier::bench {

double LogStats::leaf_fill() const {
  if (leaf_pages == 0) return 0;
  const double used = double(key_bytes + value_bytes) + double(records) * (8 + 2);
  return used / (double(leaf_pages) * double(page_size - 16));
}

bool ScanLog(const std::string& dir, LogStats* out, std::string* error) {
  MDB_env* env = nullptr;
  int rc = mdb_env_create(&env);
  if (rc == 0) rc = mdb_env_set_maxdbs(env, 16);
  if (rc == 0) rc = mdb_env_set_mapsize(env, uint64_t{1} << 40);
  if (rc == 0) rc = mdb_env_open(env, dir.c_str(), MDB_RDONLY | MDB_NOTLS, 0600);
  MDB_txn* txn = nullptr;
  if (rc == 0) rc = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
  MDB_dbi dbi = 0;
  if (rc == 0) rc = mdb_dbi_open(txn, "log", 0, &dbi);
  MDB_stat st{};
  if (rc == 0) rc = mdb_stat(txn, dbi, &st);
  MDB_cursor* cur = nullptr;
  if (rc == 0) rc = mdb_cursor_open(txn, dbi, &cur);
  if (rc != 0) {
    *error = std::string("cannot read the store: ") + mdb_strerror(rc);
    if (txn) mdb_txn_abort(txn);
    if (env) mdb_env_close(env);
    return false;
  }
  out->leaf_pages = static_cast<int64_t>(st.ms_leaf_pages);
  out->branch_pages = static_cast<int64_t>(st.ms_branch_pages);
  out->overflow_pages = static_cast<int64_t>(st.ms_overflow_pages);
  out->page_size = static_cast<int>(st.ms_psize);
  MDB_val k, v;
  courier::store::v1::Entry e;
  int64_t n = 0;
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    ++out->records;
    out->key_bytes += static_cast<int64_t>(k.mv_size);
    out->value_bytes += static_cast<int64_t>(v.mv_size);
    if (n++ % 16 == 0 && e.ParseFromArray(v.mv_data, static_cast<int>(v.mv_size))) {
      ++out->parsed;
      out->payload_bytes += static_cast<int64_t>(e.message().payload().size());
    }
  }
  mdb_cursor_close(cur);
  mdb_txn_abort(txn);
  mdb_env_close(env);
  // Payload was sampled on every 16th record: scale to all of them.
  if (out->parsed > 0) out->payload_bytes = out->payload_bytes * out->records / out->parsed;
  return true;
}

}  // namespace courier::bench
