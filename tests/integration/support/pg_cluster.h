// PgCluster: the PostgreSQL side of a scale-out failure test: one primary
// and 0..n streaming standbys (proc::Postgres each), with synchronous
// replication to a quorum of the standbys, and what a failover needs:
// killing a server outright, promoting the most advanced standby and
// pointing the others at it.
//
// Start(): the primary is started, the database created, each standby made
// with pg_basebackup -R and started with application_name s1, s2, ... in
// its primary_conninfo; once every standby streams, the primary gets
// `synchronous_standby_names = '<sync>'` (e.g. 'ANY 1 (s1, s2)') and
// synchronous_commit on, so a COMMIT returns only once that quorum has
// flushed it.
//
// Ownership: owns the servers (each ends by its pid, its directory
// removed). Threads: the test's main thread. Failures: AssertionResult
// naming the step and the server's log tail; nothing throws.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "proc/postgres.h"

namespace courier::it {

class PgCluster {
 public:
  PgCluster() = default;
  ~PgCluster();

  // `standbys` standbys; `sync` the primary's synchronous_standby_names
  // (ignored without standbys).
  ::testing::AssertionResult Start(const std::string& database, int standbys, const std::string& sync);

  size_t size() const { return nodes_.size(); }
  proc::Postgres& node(size_t i) { return *nodes_[i]; }
  size_t primary() const { return primary_; }
  // "s<i>" for standby i (node i, i >= 1).
  static std::string NameOf(size_t i) { return "s" + std::to_string(i); }
  // Every server, primary first, with target_session_attrs=read-write (one
  // host without standbys): what the edges are given.
  std::string EdgeConninfo() const;
  // The current primary alone.
  std::string PrimaryConninfo() const;

  // SIGKILL to the server's postmaster and every process it started, at
  // once: the server dies as in a machine crash, nothing more is sent.
  void KillNode(size_t i);
  // Waits (up to 10 s) until each live standby has replayed what it
  // received, then promotes the one with the highest
  // pg_last_wal_replay_lsn(); *report gets each standby's LSN.
  ::testing::AssertionResult PromoteMostAdvanced(size_t* promoted, std::string* report);
  // Points standby `i` at the current primary (primary_conninfo, reload)
  // and waits (up to 15 s) until the primary sees it streaming; then makes
  // it the primary's synchronous standby.
  ::testing::AssertionResult Repoint(size_t i);
  // Waits (up to 15 s) until the primary has `n` standbys streaming.
  ::testing::AssertionResult WaitStreaming(int n);

 private:
  ::testing::AssertionResult StartStandby(size_t i);
  std::string database_;
  std::vector<std::unique_ptr<proc::Postgres>> nodes_;
  std::vector<bool> dead_;
  size_t primary_ = 0;
};

}  // namespace courier::it
