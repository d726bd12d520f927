// Thin RAII wrappers over the LMDB C API, private to storage/lmdb/.
// Errors from LMDB are thrown as LmdbError and caught inside LmdbStore and
// LmdbReader,
// which turns them into Status values; they never leave storage/.
#pragma once

#include <lmdb.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace courier::storage {

class LmdbError : public std::runtime_error {
 public:
  LmdbError(int rc, const std::string& what);
  int rc() const { return rc_; }

 private:
  int rc_;
};

// Throws LmdbError unless rc is MDB_SUCCESS.
void Check(int rc, const char* what);

// Owns an MDB_env. Not copyable.
class Env {
 public:
  Env();
  ~Env();
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
  MDB_env* get() const { return env_; }

 private:
  MDB_env* env_ = nullptr;
};

// Owns one transaction; aborts it on destruction unless Commit() succeeded.
class Txn {
 public:
  Txn(MDB_env* env, bool read_only);
  ~Txn();
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  MDB_txn* get() const { return txn_; }
  void Commit();
  void Abort();

  // Returns the value stored at key, or nullopt. The view stays valid until
  // the next write in this transaction or its end.
  std::optional<std::string_view> Get(MDB_dbi dbi, std::string_view key) const;
  // flags: 0, or MDB_APPEND (the key sorts after every key of the table),
  // MDB_APPENDDUP (a dupsort value that sorts after the key's other values).
  void Put(MDB_dbi dbi, std::string_view key, std::string_view value, unsigned flags = 0);
  // Returns false when the key did not exist. On a dupsort table it deletes
  // all the key's values.
  bool Del(MDB_dbi dbi, std::string_view key);
  // Dupsort table: deletes the one value `value` of `key`; false when absent.
  bool DelDup(MDB_dbi dbi, std::string_view key, std::string_view value);

 private:
  MDB_txn* txn_ = nullptr;
};

// Owns a cursor inside a transaction.
class Cursor {
 public:
  Cursor(const Txn& txn, MDB_dbi dbi);
  ~Cursor();
  Cursor(const Cursor&) = delete;
  Cursor& operator=(const Cursor&) = delete;

  // Positions at the first key >= key (the first key when `key` is empty:
  // LMDB refuses empty keys). False when there is none.
  bool Seek(std::string_view key);
  bool Next();
  // Positions at the last key (on a dupsort table its last value). False
  // when the table is empty.
  bool Last();

  // Dupsort tables. SeekDup positions at the first value >= `value` among
  // the values of exactly `key`; false when the key is missing or all its
  // values sort before `value`. NextDup moves to the key's next value.
  bool SeekDup(std::string_view key, std::string_view value);
  bool NextDup();
  // Replaces the value under the cursor (MDB_CURRENT). On a dupsort table
  // the new value must have the same size and sort at the same place; on a
  // MDB_DUPFIXED table LMDB then overwrites it in place.
  void PutCurrent(std::string_view value);
  std::string_view key() const;
  std::string_view value() const;

 private:
  // mdb_cursor_get with `op` on key_/value_; false on MDB_NOTFOUND, throws
  // LmdbError on any other failure.
  bool Get(MDB_cursor_op op);
  MDB_cursor* cursor_ = nullptr;
  MDB_val key_{}, value_{};
};

inline MDB_val ToVal(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }
inline std::string_view FromVal(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

}  // namespace courier::storage
