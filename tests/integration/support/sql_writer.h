// SqlWriter: a client of the high-availability PostgreSQL that keeps
// committing numbered rows through the libpq multi-host conninfo while a
// test kills the primary under it, the way an edge's store retries: on any
// error it reconnects (libpq tries the hosts in turn and keeps the one that
// accepts writes: target_session_attrs=read-write) and commits the same row
// again, idempotently (ON CONFLICT DO NOTHING), until it holds the commit.
//
// The rows go to table ha_rows (id bigint primary key, at timestamptz),
// created by Prepare(). A row counts as acknowledged once its COMMIT
// returned success to the client.
//
// Ownership: owns its libpq connection and its thread; the destructor stops
// and joins the thread. Threads: Start() runs the loop on a thread of its
// own; the accessors are safe from the test's thread while it runs.
// Failures: errors are counted and kept (first_errors()); nothing throws.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

struct pg_conn;  // libpq's PGconn

namespace courier::it {

class SqlWriter {
 public:
  using Clock = std::chrono::steady_clock;

  explicit SqlWriter(std::string conninfo);
  ~SqlWriter();  // Stop()
  SqlWriter(const SqlWriter&) = delete;
  SqlWriter& operator=(const SqlWriter&) = delete;

  // Creates ha_rows; false with *error.
  bool Prepare(std::string* error);
  // Starts committing rows 1, 2, 3... as fast as the commits return.
  void Start();
  // Finishes the row in hand (until acknowledged) and stops.
  void Stop();

  // Rows acknowledged so far: 1..acked() (one at a time, in order).
  int64_t acked() const { return acked_.load(); }
  // Failed attempts (connect or statement errors) so far.
  int64_t errors() const { return errors_.load(); }
  // The longest time between two acknowledged commits since the last call
  // (or the start), and a fresh measurement from now on.
  std::chrono::milliseconds TakeLongestGap();
  std::vector<std::string> first_errors() const;

 private:
  void Run();
  bool CommitRow(int64_t id);
  void Failed(const std::string& what);

  std::string conninfo_;
  pg_conn* conn_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> acked_{0}, errors_{0};
  mutable std::mutex mu_;
  std::chrono::milliseconds longest_gap_{0};
  std::vector<std::string> first_errors_;
};

}  // namespace courier::it
