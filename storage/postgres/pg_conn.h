// PgConn: one libpq connection in pipeline mode, with RAII results,
// binary parameters and error classification. Private to storage/postgres/.
//
// Every statement is a prepared statement (prepared once per connection)
// sent into the pipeline without waiting: Send() queues a write whose
// result is only checked later, Fetch() queues a read and waits for it (and
// for every write queued before it), Sync() ends the pipeline's current
// segment and checks everything. So a batch costs one round trip per read
// it needs, not one per statement.
//
// Ownership: owns its PGconn and closes it. Thread: one thread at a time.
// Failure: every SQL or connection error throws PgError. After a PgError
// the connection's pipeline is in an unknown state: the caller drops it.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <deque>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace courier::storage {

// A failed statement or a broken connection.
class PgError : public std::runtime_error {
 public:
  PgError(const std::string& msg, std::string sqlstate, bool lost = false)
      : std::runtime_error(msg), sqlstate_(std::move(sqlstate)), lost_(lost) {}
  const std::string& sqlstate() const { return sqlstate_; }
  // The connection is gone: closed by the server (a FATAL error such as an
  // administrator's shutdown, class 57P) or by the network (class 08).
  bool lost() const { return lost_ || sqlstate_.rfind("08", 0) == 0 || sqlstate_.rfind("57P", 0) == 0; }
  // Deadlock or serialization failure: the whole transaction may be retried.
  bool retryable() const { return sqlstate_ == "40P01" || sqlstate_ == "40001"; }

 private:
  std::string sqlstate_;
  bool lost_;
};

// Type OIDs of the parameters this engine sends.
inline constexpr Oid kBytea = 17, kInt8 = 20, kInt4 = 23, kBool = 16;
inline constexpr Oid kByteaArray = 1001, kInt8Array = 1016, kInt4Array = 1007, kBoolArray = 1000;

// A one-dimensional array parameter in binary form. Elements may be null.
class PgArray {
 public:
  explicit PgArray(Oid element) : element_(element) {}
  PgArray& Bytes(std::string_view v);
  PgArray& Int4(int32_t v);
  PgArray& Int8(int64_t v);
  PgArray& Bool(bool v);
  PgArray& Null();
  size_t size() const { return count_; }
  Oid element() const { return element_; }
  std::string Encode() const;

 private:
  Oid element_;
  size_t count_ = 0;
  bool nulls_ = false;
  std::string data_;
};

// Positional parameters ($1, $2, ...), all sent in binary form.
class Params {
 public:
  Params& Bytes(std::string_view v);
  Params& Int4(int32_t v);
  Params& Int8(int64_t v);
  Params& Bool(bool v);
  Params& Null(Oid type);
  Params& Array(const PgArray& a);

  size_t size() const { return types_.size(); }
  const std::vector<Oid>& types() const { return types_; }
  const std::vector<std::string>& values() const { return values_; }
  const std::vector<bool>& nulls() const { return nulls_; }

 private:
  Params& Add(Oid type, std::string value);
  std::vector<Oid> types_;
  std::vector<std::string> values_;
  std::vector<bool> nulls_;
};

// The rows of one statement, binary format. Getters convert by column type.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r) : r_(r, &PQclear) {}
  int rows() const { return r_ ? PQntuples(r_.get()) : 0; }
  bool null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string_view bytes(int row, int col) const;
  int64_t integer(int row, int col) const;  // int2, int4 or int8; 0 when null
  bool boolean(int row, int col) const;     // false when null
  // Rows a DELETE or UPDATE touched.
  uint64_t affected() const;

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> r_{nullptr, &PQclear};
};

class PgConn {
 public:
  // Connects with the given keywords/values (libpq's PQconnectdbParams) and
  // enters pipeline mode. On failure returns null and sets *error.
  static std::unique_ptr<PgConn> Connect(const std::vector<std::pair<std::string, std::string>>& params,
                                         std::string* error);
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  // Queues a statement; a failure surfaces at the next Fetch(), Wait() or
  // Sync(). With `into`, its rows land there when they are read; *into must
  // outlive that.
  void Send(const std::string& sql, const Params& p = {}, PgResult* into = nullptr);
  // Reads the results of everything queued (one round trip).
  void Wait();
  // Queues a statement and returns its rows, after checking every statement
  // queued before it.
  PgResult Fetch(const std::string& sql, const Params& p = {});
  // Ends the pipeline segment and checks every statement queued so far.
  void Sync();

 private:
  explicit PgConn(PGconn* c) : conn_(c) {}
  [[noreturn]] void Fail(const PGresult* r, const std::string& what);
  const std::string& Prepared(const std::string& sql, const Params& p);
  // Reads the results of queued statements until `keep` remain queued;
  // returns the last one read.
  PgResult Drain(size_t keep);
  void FlushOut();

  PGconn* conn_;
  // Statements sent whose results are not read yet, with where each
  // result goes (null: only checked).
  std::deque<PgResult*> queued_;
  std::unordered_map<std::string, std::string> prepared_;
};

}  // namespace courier::storage
