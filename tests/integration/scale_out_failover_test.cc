// Scale-out failure tests: the database's servers fail. A primary with two
// streaming standbys (application_name s1, s2), synchronous_standby_names
// 'ANY 1 (s1, s2)' and synchronous_commit on: a COMMIT, and so a SENDER
// ack, returns only once a standby has flushed it. Two Courier edges reach
// the servers through one multi-host conninfo with
// target_session_attrs=read-write, so after a failover they find the new
// primary by themselves. 4 senders to 2 receivers, clients failing over
// between the edges on a lost connection or a transient error.
//
// PrimaryKilledStandbyPromoted: kill -9 of the primary (every process of
// it) under traffic, then the standby with the highest
// pg_last_wal_replay_lsn() is promoted and the other one re-pointed at it
// (and made its synchronous standby). Nothing acknowledged may be lost.
//
// StandbyKilledClientsSeeNothing: kill -9 of one standby under traffic: the
// other one is the quorum, so no client may see an error.
#include <string>

#include "support/scale_out_fixture.h"

namespace courier::it {
namespace {

using std::chrono::milliseconds;

constexpr const char* kSync = "ANY 1 (s1, s2)";

EdgeTrafficOptions FourToTwo() {
  return {.senders = {"alice", "carol", "dave", "erin"}, .receivers = {"bob", "frank"}};
}

int64_t MsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t).count();
}

TEST_F(ScaleOutTest, PrimaryKilledStandbyPromotedLosesNothingAcknowledged) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(2, kSync));
  ASSERT_NO_FATAL_FAILURE(StartEdges(2));
  StartTraffic(FourToTwo());
  RunFor(milliseconds(3000));
  const size_t acked_before = traffic_->acked();
  const size_t in_flight = traffic_->in_flight();
  const auto killed_at = Clock::now();
  cluster_.KillNode(0);
  // Acks of commits that returned just before the kill may still be on
  // their way for a moment; after that nothing can commit until a
  // promotion. 1 s is what an HA manager might take to notice.
  RunFor(milliseconds(200));
  const size_t acked_after_kill = traffic_->acked();
  RunFor(milliseconds(800));
  const size_t acked_while_down = traffic_->acked() - acked_after_kill;
  size_t promoted = 0;
  std::string lsns;
  ASSERT_TRUE(cluster_.PromoteMostAdvanced(&promoted, &lsns));
  const int64_t promoted_ms = MsSince(killed_at);
  // First ack after the promotion: the edges found the new primary.
  const size_t acked_at_promotion = traffic_->acked();
  while (traffic_->acked() == acked_at_promotion && MsSince(killed_at) < 30000) traffic_->Step(Ports());
  const int64_t first_ack_ms = MsSince(killed_at);
  ASSERT_GT(traffic_->acked(), acked_at_promotion) << "no ack within 30 s of the kill";
  const size_t other = promoted == 1 ? 2 : 1;
  const auto repoint = cluster_.Repoint(other);
  EXPECT_TRUE(repoint) << "the other standby could not follow the promoted one";
  RunFor(milliseconds(3000));
  ASSERT_NO_FATAL_FAILURE(FinishAndAudit());
  Report("primary kill",
         "in flight at the kill=" + std::to_string(in_flight) + " acked before=" + std::to_string(acked_before) +
             " acked while no primary=" + std::to_string(acked_while_down) + " " + lsns + "promoted " +
             PgCluster::NameOf(promoted) + " at +" + std::to_string(promoted_ms) + " ms, first ack at +" +
             std::to_string(first_ack_ms) + " ms, other standby re-pointed: " + (repoint ? "yes" : "no"));
  EXPECT_EQ(acked_while_down, 0u) << "acks while no primary existed (from 200 ms after the kill to the promotion)";
  EXPECT_GT(in_flight, 0u) << "the kill should hit messages in flight";
}

TEST_F(ScaleOutTest, StandbyKilledClientsSeeNoError) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(2, kSync));
  ASSERT_NO_FATAL_FAILURE(StartEdges(2));
  StartTraffic(FourToTwo());
  RunFor(milliseconds(2000));
  const size_t acked_before = traffic_->acked();
  cluster_.KillNode(2);
  const auto killed_at = Clock::now();
  RunFor(milliseconds(3000));
  const size_t acked_after = traffic_->acked() - acked_before;
  std::string streaming, error;
  cluster_.node(0).Exec("SELECT string_agg(application_name || ':' || sync_state, ',') FROM pg_stat_replication",
                        &error, "postgres", &streaming);
  ASSERT_NO_FATAL_FAILURE(FinishAndAudit());
  Report("standby kill", "acked before=" + std::to_string(acked_before) + " acked in the 3 s after=" +
                             std::to_string(acked_after) + " replication after: " + streaming);
  EXPECT_EQ(ErrorAnswers(), 0u) << "a client saw an error";
  EXPECT_EQ(traffic_->failovers(), 0u) << "a client lost its edge";
  EXPECT_GT(acked_after, 500u) << "traffic kept flowing on the remaining standby";
  (void)killed_at;
}

}  // namespace
}  // namespace courier::it
