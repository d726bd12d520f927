#include "store_stats.h"

#include <lmdb.h>

#include "store.pb.h"

namespace courier::bench {

double StoreScan::body_leaf_fill() const {
  const auto& b = bodies;
  if (b.leaf_pages == 0) return 0;
  const double used = double(b.key_bytes + b.value_bytes) + double(b.records) * (8 + 2);
  return used / (double(b.leaf_pages) * double(b.page_size - 16));
}

namespace {

int Stat(MDB_txn* txn, MDB_dbi dbi, TableScan* t) {
  MDB_stat st{};
  int rc = mdb_stat(txn, dbi, &st);
  if (rc != 0) return rc;
  t->leaf_pages = static_cast<int64_t>(st.ms_leaf_pages);
  t->branch_pages = static_cast<int64_t>(st.ms_branch_pages);
  t->overflow_pages = static_cast<int64_t>(st.ms_overflow_pages);
  t->page_size = static_cast<int>(st.ms_psize);
  return 0;
}

}  // namespace

bool ScanStore(const std::string& dir, StoreScan* out, std::string* error) {
  MDB_env* env = nullptr;
  int rc = mdb_env_create(&env);
  if (rc == 0) rc = mdb_env_set_maxdbs(env, 16);
  if (rc == 0) rc = mdb_env_set_mapsize(env, uint64_t{1} << 40);
  if (rc == 0) rc = mdb_env_open(env, dir.c_str(), MDB_RDONLY | MDB_NOTLS, 0600);
  MDB_txn* txn = nullptr;
  if (rc == 0) rc = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
  MDB_dbi bodies = 0, copies = 0;
  if (rc == 0) rc = mdb_dbi_open(txn, "bodies", 0, &bodies);
  if (rc == 0) rc = mdb_dbi_open(txn, "copies", 0, &copies);
  if (rc == 0) rc = Stat(txn, bodies, &out->bodies);
  if (rc == 0) rc = Stat(txn, copies, &out->copies);
  MDB_cursor* cur = nullptr;
  if (rc == 0) rc = mdb_cursor_open(txn, bodies, &cur);
  if (rc != 0) {
    *error = std::string("cannot read the store: ") + mdb_strerror(rc);
    if (txn) mdb_txn_abort(txn);
    if (env) mdb_env_close(env);
    return false;
  }
  MDB_val k, v;
  courier::store::v1::Body b;
  int64_t n = 0;
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    ++out->bodies.records;
    out->bodies.key_bytes += static_cast<int64_t>(k.mv_size);
    out->bodies.value_bytes += static_cast<int64_t>(v.mv_size);
    if (n++ % 16 == 0 && b.ParseFromArray(v.mv_data, static_cast<int>(v.mv_size))) {
      ++out->parsed;
      out->payload_bytes += static_cast<int64_t>(b.message().payload().size());
    }
  }
  mdb_cursor_close(cur);
  // copies: one key per user, one fixed-size value per copy.
  cur = nullptr;
  if (mdb_cursor_open(txn, copies, &cur) == 0) {
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_NODUP)) {
      size_t count = 0;
      if (mdb_cursor_count(cur, &count) != 0) break;
      out->copies.key_bytes += static_cast<int64_t>(k.mv_size);
      out->copies.records += static_cast<int64_t>(count);
      out->copies.value_bytes += static_cast<int64_t>(count * v.mv_size);
    }
    mdb_cursor_close(cur);
  }
  mdb_txn_abort(txn);
  mdb_env_close(env);
  // Payload was sampled on every 16th body: scale to all of them.
  if (out->parsed > 0) out->payload_bytes = out->payload_bytes * out->bodies.records / out->parsed;
  return true;
}

}  // namespace courier::bench
