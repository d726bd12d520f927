#include "lmdb_env.h"

namespace courier::storage {

LmdbError::LmdbError(int rc, const std::string& what) : std::runtime_error(what + ": " + mdb_strerror(rc)), rc_(rc) {}

void Check(int rc, const char* what) {
  if (rc != MDB_SUCCESS) throw LmdbError(rc, what);
}

Env::Env() { Check(mdb_env_create(&env_), "mdb_env_create"); }
Env::~Env() {
  if (env_) mdb_env_close(env_);
}

Txn::Txn(MDB_env* env, bool read_only) {
  Check(mdb_txn_begin(env, nullptr, read_only ? MDB_RDONLY : 0, &txn_), "mdb_txn_begin");
}
Txn::~Txn() { Abort(); }

void Txn::Commit() {
  MDB_txn* t = txn_;
  txn_ = nullptr;  // mdb_txn_commit frees the txn even when it fails
  Check(mdb_txn_commit(t), "mdb_txn_commit");
}

void Txn::Abort() {
  if (txn_) mdb_txn_abort(txn_);
  txn_ = nullptr;
}

std::optional<std::string_view> Txn::Get(MDB_dbi dbi, std::string_view key) const {
  MDB_val k = ToVal(key), v{};
  int rc = mdb_get(txn_, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return std::nullopt;
  Check(rc, "mdb_get");
  return FromVal(v);
}

void Txn::Put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags) {
  MDB_val k = ToVal(key), v = ToVal(value);
  Check(mdb_put(txn_, dbi, &k, &v, flags), "mdb_put");
}

bool Txn::DelDup(MDB_dbi dbi, std::string_view key, std::string_view value) {
  MDB_val k = ToVal(key), v = ToVal(value);
  int rc = mdb_del(txn_, dbi, &k, &v);
  if (rc == MDB_NOTFOUND) return false;
  Check(rc, "mdb_del");
  return true;
}

bool Txn::Del(MDB_dbi dbi, std::string_view key) {
  MDB_val k = ToVal(key);
  int rc = mdb_del(txn_, dbi, &k, nullptr);
  if (rc == MDB_NOTFOUND) return false;
  Check(rc, "mdb_del");
  return true;
}

Cursor::Cursor(const Txn& txn, MDB_dbi dbi) { Check(mdb_cursor_open(txn.get(), dbi, &cursor_), "mdb_cursor_open"); }
Cursor::~Cursor() { mdb_cursor_close(cursor_); }

bool Cursor::Get(MDB_cursor_op op) {
  int rc = mdb_cursor_get(cursor_, &key_, &value_, op);
  if (rc == MDB_NOTFOUND) return false;
  Check(rc, "mdb_cursor_get");
  return true;
}

bool Cursor::Seek(std::string_view key) {
  key_ = ToVal(key);
  return Get(key.empty() ? MDB_FIRST : MDB_SET_RANGE);
}

bool Cursor::Next() { return Get(MDB_NEXT); }

bool Cursor::Last() { return Get(MDB_LAST); }

bool Cursor::SeekDup(std::string_view key, std::string_view value) {
  key_ = ToVal(key);
  value_ = ToVal(value);
  return Get(MDB_GET_BOTH_RANGE);
}

bool Cursor::NextDup() { return Get(MDB_NEXT_DUP); }

void Cursor::PutCurrent(std::string_view value) {
  MDB_val v = ToVal(value);
  Check(mdb_cursor_put(cursor_, &key_, &v, MDB_CURRENT), "mdb_cursor_put");
  // The cursor still points at the (rewritten) value.
  Check(mdb_cursor_get(cursor_, &key_, &value_, MDB_GET_CURRENT), "mdb_cursor_get");
}

std::string_view Cursor::key() const { return FromVal(key_); }
std::string_view Cursor::value() const { return FromVal(value_); }

}  // namespace courier::storage
