// Scale-out failure test: kill -9 of edges. Two Courier edges on one
// PostgreSQL database; 4 senders (16 unacknowledged messages each) to 2
// receivers, every client failing over to the other edge when its
// connection goes. The edges are killed with SIGKILL 20 times, alternating,
// each 200-600 ms (seeded) after the previous kill, and each killed edge is
// restarted on its port right after its kill; the clients that started on
// it then go back to it (as a load balancer would spread them again), and
// resend there what the other edge has not acknowledged yet, so dedup is
// exercised across edges. Then DeliveryAudit: nothing
// acknowledged lost, nothing stored twice, offsets 1..N per user and
// user_offsets 1..K per conversation, a final pull by each receiver sees
// every acknowledged message once.
//
// Reproduce a run with COURIER_SCALE_OUT_SEED=<seed printed by the test>.
#include <cstdlib>
#include <random>

#include "support/scale_out_fixture.h"

namespace courier::it {
namespace {

constexpr int kKills = 20;

uint64_t Seed() {
  if (const char* s = std::getenv("COURIER_SCALE_OUT_SEED"); s != nullptr && *s != '\0') {
    return std::strtoull(s, nullptr, 10);
  }
  return (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
}

TEST_F(ScaleOutTest, TwentyEdgeKillsUnderLoadLoseAndDuplicateNothing) {
  const uint64_t seed = Seed();
  std::printf("[scale-out] edge kills: seed=%llu (rerun with COURIER_SCALE_OUT_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  ASSERT_NO_FATAL_FAILURE(StartCluster(0, ""));
  ASSERT_NO_FATAL_FAILURE(StartEdges(2));
  StartTraffic({.senders = {"alice", "carol", "dave", "erin"}, .receivers = {"bob", "frank"}});
  RunFor(std::chrono::milliseconds(500));

  std::uniform_int_distribution<int> uptime(200, 600);
  int kills = 0, with_unacked = 0;
  size_t moved_home = 0;
  int64_t restart_ms_max = 0;
  const auto chaos_start = Clock::now();
  while (kills < kKills) {
    RunFor(std::chrono::milliseconds(uptime(rng)));
    Broker& edge = *edges_[kills % 2];
    if (traffic_->in_flight() > 0) ++with_unacked;
    edge.Kill9();
    ++kills;
    // The clients of the killed edge move to the other one meanwhile.
    RunFor(std::chrono::milliseconds(50));
    const auto t = Clock::now();
    ASSERT_TRUE(edge.Restart());
    moved_home += traffic_->GoHome(Ports());
    restart_ms_max = std::max<int64_t>(restart_ms_max,
                                       std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count());
    std::printf("[scale-out] kill %2d (edge %d): acked so far %zu, unacknowledged %zu\n", kills, (kills - 1) % 2,
                traffic_->acked(), traffic_->in_flight());
  }
  const auto chaos_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - chaos_start).count();
  ASSERT_NO_FATAL_FAILURE(FinishAndAudit());
  Report("edge kills", "seed=" + std::to_string(seed) + " kills=" + std::to_string(kills) +
                           " with_unacked=" + std::to_string(with_unacked) + " chaos=" + std::to_string(chaos_ms) +
                           " ms restart_max=" + std::to_string(restart_ms_max) +
                           " ms clients_sent_home=" + std::to_string(moved_home));
  EXPECT_GE(with_unacked, kKills / 2) << "most kills should hit messages in flight";
  EXPECT_GT(traffic_->failovers(), 0u);
  EXPECT_GT(audit_->counts().acked, 1000u) << "the edges should get real work done between kills";
}

}  // namespace
}  // namespace courier::it
