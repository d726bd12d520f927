#include "support/sql_writer.h"

#include <libpq-fe.h>

#include <utility>

#include "proc/pg_client.h"

namespace courier::it {
namespace {

std::string Trimmed(const char* message) {
  std::string s = message != nullptr ? message : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

SqlWriter::SqlWriter(std::string conninfo) : conninfo_(std::move(conninfo)) {}

SqlWriter::~SqlWriter() {
  Stop();
  if (conn_ != nullptr) PQfinish(conn_);
}

bool SqlWriter::Prepare(std::string* error) {
  return proc::PgExec(conninfo_, "CREATE TABLE IF NOT EXISTS ha_rows (id bigint PRIMARY KEY, at timestamptz NOT NULL)",
                      error);
}

void SqlWriter::Start() {
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void SqlWriter::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::chrono::milliseconds SqlWriter::TakeLongestGap() {
  std::lock_guard<std::mutex> lock(mu_);
  return std::exchange(longest_gap_, std::chrono::milliseconds(0));
}

std::vector<std::string> SqlWriter::first_errors() const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_errors_;
}

void SqlWriter::Failed(const std::string& what) {
  ++errors_;
  std::lock_guard<std::mutex> lock(mu_);
  if (first_errors_.size() < 10) first_errors_.push_back(what);
}

// One attempt at row `id`: (re)connect if needed, INSERT in autocommit (the
// statement's success is the COMMIT's).
bool SqlWriter::CommitRow(int64_t id) {
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = PQconnectdb(conninfo_.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      Failed("connect: " + Trimmed(PQerrorMessage(conn_)));
      return false;
    }
  }
  const std::string sql = "INSERT INTO ha_rows VALUES (" + std::to_string(id) + ", now()) ON CONFLICT (id) DO NOTHING";
  PGresult* r = PQexec(conn_, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  if (!ok) Failed("row " + std::to_string(id) + ": " + Trimmed(PQresultErrorMessage(r)));
  PQclear(r);
  if (!ok) {
    PQfinish(conn_);  // whatever the error, the next attempt starts on a fresh connection
    conn_ = nullptr;
  }
  return ok;
}

void SqlWriter::Run() {
  auto last_ack = Clock::now();
  for (int64_t id = acked_ + 1; !stop_; ++id) {
    while (!CommitRow(id)) {
      if (stop_) return;  // never acknowledged: not counted
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    acked_ = id;
    const auto now = Clock::now();
    const auto gap = std::chrono::duration_cast<std::chrono::milliseconds>(now - last_ack);
    last_ack = now;
    std::lock_guard<std::mutex> lock(mu_);
    if (gap > longest_gap_) longest_gap_ = gap;
  }
}

}  // namespace courier::it
