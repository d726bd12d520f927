#include "pg_conn.h"

#include <arpa/inet.h>

#include <cstring>

namespace courier::storage {
namespace {

// Statements queued without reading a result before a Send() waits for the
// server: bounds what both sides buffer (a blocking connection whose server
// cannot write its results would stall).
constexpr size_t kMaxQueued = 512;

void Put32(std::string* out, uint32_t v) {
  v = htonl(v);
  out->append(reinterpret_cast<const char*>(&v), 4);
}

void Put64(std::string* out, uint64_t v) {
  Put32(out, static_cast<uint32_t>(v >> 32));
  Put32(out, static_cast<uint32_t>(v));
}

uint64_t ReadBe(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// libpq's messages end with a newline; a Status message is one line.
std::string Trimmed(const char* msg) {
  std::string s = msg ? msg : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (auto& c : s) {
    if (c == '\n') c = ' ';
  }
  return s;
}

}  // namespace

PgArray& PgArray::Bytes(std::string_view v) {
  Put32(&data_, static_cast<uint32_t>(v.size()));
  data_.append(v);
  ++count_;
  return *this;
}
PgArray& PgArray::Int4(int32_t v) {
  Put32(&data_, 4);
  Put32(&data_, static_cast<uint32_t>(v));
  ++count_;
  return *this;
}
PgArray& PgArray::Int8(int64_t v) {
  Put32(&data_, 8);
  Put64(&data_, static_cast<uint64_t>(v));
  ++count_;
  return *this;
}
PgArray& PgArray::Bool(bool v) {
  Put32(&data_, 1);
  data_.push_back(v ? 1 : 0);
  ++count_;
  return *this;
}
PgArray& PgArray::Null() {
  Put32(&data_, 0xffffffffu);
  nulls_ = true;
  ++count_;
  return *this;
}

std::string PgArray::Encode() const {
  std::string out;
  Put32(&out, 1);  // dimensions
  Put32(&out, nulls_ ? 1 : 0);
  Put32(&out, element_);
  Put32(&out, static_cast<uint32_t>(count_));
  Put32(&out, 1);  // lower bound
  out.append(data_);
  return out;
}

Params& Params::Add(Oid type, std::string value) {
  types_.push_back(type);
  values_.push_back(std::move(value));
  nulls_.push_back(false);
  return *this;
}
Params& Params::Bytes(std::string_view v) { return Add(kBytea, std::string(v)); }
Params& Params::Int4(int32_t v) {
  std::string s;
  Put32(&s, static_cast<uint32_t>(v));
  return Add(kInt4, std::move(s));
}
Params& Params::Int8(int64_t v) {
  std::string s;
  Put64(&s, static_cast<uint64_t>(v));
  return Add(kInt8, std::move(s));
}
Params& Params::Bool(bool v) { return Add(kBool, std::string(1, v ? 1 : 0)); }
Params& Params::Null(Oid type) {
  Add(type, {});
  nulls_.back() = true;
  return *this;
}
Params& Params::Array(const PgArray& a) {
  Oid type = kByteaArray;
  switch (a.element()) {
    case kInt4: type = kInt4Array; break;
    case kInt8: type = kInt8Array; break;
    case kBool: type = kBoolArray; break;
    default: break;
  }
  return Add(type, a.Encode());
}

std::string_view PgResult::bytes(int row, int col) const {
  return {PQgetvalue(r_.get(), row, col), static_cast<size_t>(PQgetlength(r_.get(), row, col))};
}

int64_t PgResult::integer(int row, int col) const {
  if (null(row, col)) return 0;
  const char* p = PQgetvalue(r_.get(), row, col);
  switch (PQgetlength(r_.get(), row, col)) {
    case 2: return static_cast<int16_t>(ReadBe(p, 2));
    case 4: return static_cast<int32_t>(ReadBe(p, 4));
    case 8: return static_cast<int64_t>(ReadBe(p, 8));
    default: throw PgError("unexpected integer width in a result", "");
  }
}

bool PgResult::boolean(int row, int col) const {
  return !null(row, col) && PQgetlength(r_.get(), row, col) == 1 && PQgetvalue(r_.get(), row, col)[0] != 0;
}

uint64_t PgResult::affected() const {
  const char* n = r_ ? PQcmdTuples(r_.get()) : "";
  return *n ? std::strtoull(n, nullptr, 10) : 0;
}

std::unique_ptr<PgConn> PgConn::Connect(const std::vector<std::pair<std::string, std::string>>& params,
                                        std::string* error) {
  std::vector<const char*> keys, values;
  for (const auto& [k, v] : params) {
    keys.push_back(k.c_str());
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* c = PQconnectdbParams(keys.data(), values.data(), 0);
  if (!c || PQstatus(c) != CONNECTION_OK) {
    *error = c ? Trimmed(PQerrorMessage(c)) : "out of memory";
    if (c) PQfinish(c);
    return nullptr;
  }
  if (PQenterPipelineMode(c) != 1) {
    *error = "cannot enter pipeline mode: " + Trimmed(PQerrorMessage(c));
    PQfinish(c);
    return nullptr;
  }
  return std::unique_ptr<PgConn>(new PgConn(c));
}

PgConn::~PgConn() { PQfinish(conn_); }

void PgConn::Fail(const PGresult* r, const std::string& what) {
  std::string state;
  std::string detail;
  if (r) {
    const char* s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (s) state = s;
    detail = Trimmed(PQresultErrorMessage(r));
  }
  if (detail.empty()) detail = Trimmed(PQerrorMessage(conn_));
  const std::string msg = detail.empty() ? what : what + ": " + detail;
  throw PgError(msg, state, PQstatus(conn_) == CONNECTION_BAD);
}

void PgConn::FlushOut() {
  if (PQflush(conn_) != 0) Fail(nullptr, "postgres: sending failed");
}

const std::string& PgConn::Prepared(const std::string& sql, const Params& p) {
  auto it = prepared_.find(sql);
  if (it != prepared_.end()) return it->second;
  std::string name = "c" + std::to_string(prepared_.size());
  if (PQsendPrepare(conn_, name.c_str(), sql.c_str(), static_cast<int>(p.size()), p.types().data()) != 1) {
    Fail(nullptr, "postgres: cannot queue a statement");
  }
  queued_.push_back(nullptr);
  return prepared_.emplace(sql, std::move(name)).first->second;
}

void PgConn::Wait() {
  if (PQsendFlushRequest(conn_) != 1) Fail(nullptr, "postgres: cannot flush");
  FlushOut();
  Drain(0);
}

void PgConn::Send(const std::string& sql, const Params& p, PgResult* into) {
  if (queued_.size() >= kMaxQueued) Wait();
  const std::string& name = Prepared(sql, p);
  std::vector<const char*> values(p.size());
  std::vector<int> lengths(p.size()), formats(p.size(), 1);
  for (size_t i = 0; i < p.size(); ++i) {
    values[i] = p.nulls()[i] ? nullptr : p.values()[i].data();
    lengths[i] = static_cast<int>(p.values()[i].size());
  }
  if (PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(p.size()), values.data(), lengths.data(),
                          formats.data(), 1) != 1) {
    Fail(nullptr, "postgres: cannot queue a statement");
  }
  queued_.push_back(into);
}

PgResult PgConn::Drain(size_t keep) {
  PgResult last;
  while (queued_.size() > keep) {
    PGresult* r = PQgetResult(conn_);
    if (!r) Fail(nullptr, "postgres: connection lost");
    PgResult res(r);
    const auto st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) Fail(r, "postgres");
    // Each statement's results end with a null.
    if (PGresult* end = PQgetResult(conn_)) {
      PQclear(end);
      Fail(nullptr, "postgres: unexpected extra result");
    }
    PgResult* into = queued_.front();
    queued_.pop_front();
    if (into) {
      *into = std::move(res);
    } else {
      last = std::move(res);
    }
  }
  return last;
}

PgResult PgConn::Fetch(const std::string& sql, const Params& p) {
  Send(sql, p);
  if (PQsendFlushRequest(conn_) != 1) Fail(nullptr, "postgres: cannot flush");
  FlushOut();
  return Drain(0);  // the last result read is this statement's
}

void PgConn::Sync() {
  if (PQpipelineSync(conn_) != 1) Fail(nullptr, "postgres: cannot sync");
  Drain(0);
  PGresult* r = PQgetResult(conn_);
  PgResult res(r);
  if (!r || PQresultStatus(r) != PGRES_PIPELINE_SYNC) Fail(r, "postgres: pipeline out of step");
}

}  // namespace courier::storage
