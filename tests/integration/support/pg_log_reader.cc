#include "support/pg_log_reader.h"

#include <libpq-fe.h>

#include <cstdlib>

#include "store.pb.h"

namespace courier::it {
namespace {

struct Result {
  explicit Result(PGresult* r) : r(r) {}
  ~Result() { PQclear(r); }
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;
  bool ok() const { return PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK; }
  std::string text(int row, int col) const { return PQgetvalue(r, row, col); }
  // A bytea column read in text form (hex: \x...).
  std::string bytes(int row, int col) const {
    size_t n = 0;
    unsigned char* raw = PQunescapeBytea(reinterpret_cast<const unsigned char*>(PQgetvalue(r, row, col)), &n);
    std::string out(reinterpret_cast<const char*>(raw), n);
    PQfreemem(raw);
    return out;
  }
  PGresult* r;
};

}  // namespace

PgLogReader::~PgLogReader() {
  if (conn_ != nullptr) PQfinish(conn_);
}

::testing::AssertionResult PgLogReader::Open(const std::string& conninfo, std::unique_ptr<PgLogReader>* out) {
  std::unique_ptr<PgLogReader> r(new PgLogReader());
  r->conn_ = PQconnectdb(conninfo.c_str());
  if (r->conn_ == nullptr || PQstatus(r->conn_) != CONNECTION_OK) {
    return ::testing::AssertionFailure() << "cannot connect to " << conninfo << ": "
                                         << (r->conn_ ? PQerrorMessage(r->conn_) : "out of memory");
  }
  *out = std::move(r);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult PgLogReader::Log(const std::string& user, std::vector<v1::Message>* entries, int32_t* head) {
  entries->clear();
  *head = 0;
  Result begin(PQexec(conn_, "BEGIN ISOLATION LEVEL REPEATABLE READ"));
  if (!begin.ok()) return ::testing::AssertionFailure() << "BEGIN: " << PQerrorMessage(conn_);
  const char* values[1] = {user.c_str()};
  Result h(PQexecParams(conn_, "SELECT head FROM courier_heads WHERE usr = convert_to($1, 'UTF8')", 1, nullptr, values,
                        nullptr, nullptr, 0));
  if (!h.ok()) return ::testing::AssertionFailure() << "heads of " << user << ": " << PQerrorMessage(conn_);
  if (PQntuples(h.r) > 0) *head = std::atoi(h.text(0, 0).c_str());
  Result c(PQexecParams(conn_,
                        "SELECT c.off, c.device, c.received, c.read, b.body FROM courier_copies c"
                        " LEFT JOIN courier_bodies b ON b.seq = c.seq"
                        " WHERE c.usr = convert_to($1, 'UTF8') ORDER BY c.off",
                        1, nullptr, values, nullptr, nullptr, 0));
  if (!c.ok()) return ::testing::AssertionFailure() << "copies of " << user << ": " << PQerrorMessage(conn_);
  Result end(PQexec(conn_, "COMMIT"));
  for (int i = 0; i < PQntuples(c.r); ++i) {
    const int32_t off = std::atoi(c.text(i, 0).c_str());
    courier::store::v1::Body body;
    const std::string raw = c.bytes(i, 4);
    if (PQgetisnull(c.r, i, 4) || !body.ParseFromString(raw)) {
      return ::testing::AssertionFailure() << "copy " << off << " of " << user << " has no body that decodes";
    }
    v1::Message m = body.message();
    m.set_signal_offset(off);
    m.set_signal_type(c.text(i, 1) == "t" ? kDevice : kReceiver);
    if (c.text(i, 2) == "t") m.mutable_signal_ack_state()->set_received(true);
    if (c.text(i, 3) == "t") m.mutable_signal_ack_state()->set_read(true);
    entries->push_back(std::move(m));
  }
  return ::testing::AssertionSuccess();
}

}  // namespace courier::it
