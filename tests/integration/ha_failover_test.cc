// High availability (docs/ha.md): Courier's PostgreSQL store run by Patroni
// 3.0.2 with etcd 3.4, on loopback. One etcd and three Patroni nodes, each
// with its own PostgreSQL 15, in synchronous mode (one synchronous standby).
//
// The test starts the cluster, checks on the primary that a standby
// replicates synchronously (pg_stat_replication), keeps a client committing
// numbered rows through the libpq multi-host conninfo (target_session_attrs=
// read-write), kills the primary's machine (SIGKILL to Patroni, the
// postmaster and every backend), waits for Patroni to promote the
// synchronous standby, keeps committing, and then checks on the new primary
// that the remaining standby became synchronous, kills that standby too
// (the primary's commits wait until Patroni stops requiring it), and checks
// on the primary that every acknowledged row is there once, with no gap. It
// prints the timings docs/ha.md quotes: cluster start, failover (kill until
// another node answers GET /primary), the client's longest wait for a commit
// across each kill, and how many attempts failed.
//
// Needs the patroni, etcd-server and postgresql-15 packages (scripts/deps.sh
// --test) and runs as root or as a user PostgreSQL accepts. Labels postgres
// and ha:  ctest --test-dir build -L ha --output-on-failure
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "proc/patroni_cluster.h"
#include "proc/pg_client.h"
#include "proc/temp_dir.h"
#include "support/sql_writer.h"

namespace courier::it {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr auto kStartLimit = std::chrono::seconds(120);
constexpr auto kFailoverLimit = std::chrono::seconds(60);
constexpr auto kTrafficBeforeKill = std::chrono::seconds(3);
constexpr auto kTrafficAfterFailover = std::chrono::seconds(3);

long long Ms(Clock::duration d) { return std::chrono::duration_cast<milliseconds>(d).count(); }

proc::PatroniOptions NodeOptions() {
  proc::PatroniOptions o;
  o.keep_dir = proc::KeepRequested("COURIER_IT_KEEP");
  // The test kills processes, not machines: the page cache survives, so
  // fsync buys nothing here and costs the shared test machine's disk.
  o.parameters = {"fsync: 'off'"};
  return o;
}

class HaFailoverTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (writer_) writer_->Stop();
    if (HasFailure() && cluster_) std::fprintf(stderr, "%s\n", cluster_->LogTails(6000).c_str());
  }

  void StartCluster() {
    cluster_ = std::make_unique<proc::PatroniCluster>(3, NodeOptions());
    const auto t0 = Clock::now();
    std::string error;
    ASSERT_TRUE(cluster_->Start(kStartLimit, &error)) << error;
    start_ms_ = Ms(Clock::now() - t0);
    primary_ = cluster_->PrimaryIndex();
    ASSERT_GE(primary_, 0);
    std::printf("[ha] cluster up in %lld ms: primary %s, conninfo \"%s\"\n", start_ms_,
                cluster_->node(primary_).name().c_str(), cluster_->Conninfo().c_str());
  }

  // The primary's own view: some standby replicates synchronously.
  void ExpectSyncStandby(int primary) {
    std::string states, error;
    ASSERT_TRUE(proc::PgExec(cluster_->NodeConninfo(primary),
                             "SELECT coalesce(string_agg(application_name || '=' || sync_state, ','), '') "
                             "FROM pg_stat_replication",
                             &error, &states))
        << error;
    std::printf("[ha] pg_stat_replication on %s: %s\n", cluster_->node(primary).name().c_str(), states.c_str());
    EXPECT_TRUE(states.find("=sync") != std::string::npos || states.find("=quorum") != std::string::npos) << states;
  }

  // Kills the primary's node mid-traffic; waits for a new primary, for
  // commits, and for a synchronous standby again.
  void KillPrimaryUnderLoad() {
    acked_at_kill_ = writer_->acked();
    ASSERT_GT(acked_at_kill_, 0) << "no commits before the kill";
    const auto t0 = Clock::now();
    std::string error;
    EXPECT_TRUE(cluster_->KillNode(primary_, &error)) << error;
    const int next = cluster_->WaitForPrimary(kFailoverLimit, &error);
    ASSERT_GE(next, 0) << error;
    failover_ms_ = Ms(Clock::now() - t0);
    std::printf("[ha] killed %s; %s is the primary after %lld ms\n", cluster_->node(primary_).name().c_str(),
                cluster_->node(next).name().c_str(), failover_ms_);
    primary_ = next;
    // Counted from now: commits already on their way made it before the kill landed.
    ASSERT_TRUE(WaitForCommits(writer_->acked() + 10)) << "no commits after the failover";
    failover_wait_ms_ = writer_->TakeLongestGap().count();
    // The other standby may have to be rewound (pg_rewind) before it
    // follows the new primary; until then commits wait for no standby.
    const auto t1 = Clock::now();
    EXPECT_TRUE(cluster_->WaitForSyncStandby(kFailoverLimit, &error)) << error;
    resync_ms_ = Ms(Clock::now() - t1);
    std::printf("[ha] a synchronous standby again %lld ms after the first commit on the new primary\n", resync_ms_);
    std::this_thread::sleep_for(kTrafficAfterFailover);
    ASSERT_NO_FATAL_FAILURE(ExpectSyncStandby(primary_));
  }

  // Kills the synchronous standby: the primary's commits wait until Patroni
  // stops requiring it (no standby is left to take its place).
  void KillSyncStandbyUnderLoad() {
    writer_->TakeLongestGap();
    size_t standby = cluster_->size();
    for (size_t i = 0; i < cluster_->size(); ++i) {
      if (cluster_->node(i).IsSyncStandby()) standby = i;
    }
    ASSERT_LT(standby, cluster_->size()) << "no synchronous standby to kill";
    const int64_t acked = writer_->acked();
    std::string error;
    EXPECT_TRUE(cluster_->KillNode(standby, &error)) << error;
    ASSERT_TRUE(WaitForCommits(acked + 10)) << "no commits after the synchronous standby died";
    std::this_thread::sleep_for(kTrafficAfterFailover);
    standby_wait_ms_ = writer_->TakeLongestGap().count();
    std::printf("[ha] killed the synchronous standby %s: longest wait for a commit %lld ms\n",
                cluster_->node(standby).name().c_str(), standby_wait_ms_);
  }

  bool WaitForCommits(int64_t above) {
    for (const auto t0 = Clock::now(); Clock::now() - t0 < kFailoverLimit;) {
      if (writer_->acked() > above) return true;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return false;
  }

  // On the primary: rows 1..N with no gap and no duplicate, N = acknowledged,
  // or one more whose COMMIT was cut off unanswered.
  void ExpectRowsIntact() {
    std::string summary, error;
    ASSERT_TRUE(
        proc::PgExec(cluster_->Conninfo(),
                     "SELECT count(*) || ' ' || count(DISTINCT id) || ' ' || min(id) || ' ' || max(id) FROM ha_rows",
                     &error, &summary))
        << error;
    long long count = 0, distinct = 0, min_id = 0, max_id = 0;
    ASSERT_EQ(std::sscanf(summary.c_str(), "%lld %lld %lld %lld", &count, &distinct, &min_id, &max_id), 4) << summary;
    const long long acked = writer_->acked();
    std::printf(
        "[ha] acknowledged %lld rows (%lld before the kill); stored %lld (ids %lld..%lld); failed attempts %lld\n",
        acked, static_cast<long long>(acked_at_kill_), count, min_id, max_id,
        static_cast<long long>(writer_->errors()));
    for (const auto& e : writer_->first_errors()) std::printf("[ha]   client saw: %s\n", e.c_str());
    EXPECT_EQ(count, distinct);
    EXPECT_EQ(min_id, 1);
    EXPECT_EQ(count, max_id) << "a gap: some row below the highest is missing";
    EXPECT_GE(max_id, acked) << "acknowledged rows lost";
    EXPECT_LE(max_id, acked + 1);
  }

  void RecordNumbers() {
    std::printf(
        "[ha] cluster start %lld ms, failover %lld ms, longest commit wait across it %lld ms, "
        "sync standby back %lld ms later; sync standby death: longest commit wait %lld ms\n",
        start_ms_, failover_ms_, failover_wait_ms_, resync_ms_, standby_wait_ms_);
    RecordProperty("cluster_start_ms", static_cast<int>(start_ms_));
    RecordProperty("failover_ms", static_cast<int>(failover_ms_));
    RecordProperty("failover_commit_wait_ms", static_cast<int>(failover_wait_ms_));
    RecordProperty("resync_ms", static_cast<int>(resync_ms_));
    RecordProperty("standby_death_commit_wait_ms", static_cast<int>(standby_wait_ms_));
  }

  std::unique_ptr<proc::PatroniCluster> cluster_;
  std::unique_ptr<SqlWriter> writer_;
  int primary_ = -1;
  int64_t acked_at_kill_ = 0;
  long long start_ms_ = 0, failover_ms_ = 0, failover_wait_ms_ = 0, resync_ms_ = 0, standby_wait_ms_ = 0;
};

TEST_F(HaFailoverTest, AcknowledgedCommitsSurviveThePrimarysDeath) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  ASSERT_NO_FATAL_FAILURE(ExpectSyncStandby(primary_));
  writer_ = std::make_unique<SqlWriter>(cluster_->Conninfo("postgres", "connect_timeout=2"));
  std::string error;
  ASSERT_TRUE(writer_->Prepare(&error)) << error;
  writer_->Start();
  std::this_thread::sleep_for(kTrafficBeforeKill);
  ASSERT_NO_FATAL_FAILURE(KillPrimaryUnderLoad());
  ASSERT_NO_FATAL_FAILURE(KillSyncStandbyUnderLoad());
  writer_->Stop();
  ASSERT_NO_FATAL_FAILURE(ExpectRowsIntact());
  RecordNumbers();
}

}  // namespace
}  // namespace courier::it
