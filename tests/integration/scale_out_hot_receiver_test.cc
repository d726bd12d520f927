// Scale-out failure test: one hot receiver. Two Courier edges on one
// PostgreSQL database; 16 senders (32 unacknowledged messages each), half
// of them on each edge, all to bob, for 10 s. Every append locks bob's head
// row, so the two edges' transactions queue on it (and on the senders'
// rows, in the store's global lock order). No deadlock, serialization
// failure or other error may reach a client: the error answers (transient
// send errors, pull errors, permanent errors) must be 0, and DeliveryAudit
// holds (nothing lost or stored twice, offsets gapless, bob's final pull
// sees every acknowledged message once).
#include <string>
#include <vector>

#include "support/scale_out_fixture.h"

namespace courier::it {
namespace {

TEST_F(ScaleOutTest, ManySendersOnTwoEdgesToOneReceiverGetNoErrors) {
  ASSERT_NO_FATAL_FAILURE(StartCluster(0, ""));
  ASSERT_NO_FATAL_FAILURE(StartEdges(2));
  std::vector<std::string> senders;
  for (int i = 0; i < 16; ++i) senders.push_back("sender" + std::to_string(i));
  StartTraffic({.senders = senders, .receivers = {"bob"}, .window = 32});
  RunFor(std::chrono::seconds(10));
  const size_t acked_under_load = traffic_->acked();
  const uint64_t errors_under_load = ErrorAnswers();
  ASSERT_NO_FATAL_FAILURE(FinishAndAudit());
  std::string deadlocks, error;
  cluster_.node(0).Exec("SELECT deadlocks FROM pg_stat_database WHERE datname = 'courier'", &error, "postgres",
                        &deadlocks);
  Report("hot receiver", "16 senders x 32 in flight -> bob on 2 edges for 10 s: acked under load=" +
                             std::to_string(acked_under_load) + " server deadlocks=" + deadlocks);
  EXPECT_EQ(errors_under_load, 0u) << "error answers under load";
  EXPECT_EQ(ErrorAnswers(), 0u) << "error answers in the whole run";
  EXPECT_EQ(traffic_->failovers(), 0u) << "no edge went away, so no client should have moved";
  EXPECT_GT(acked_under_load, 1000u);
}

}  // namespace
}  // namespace courier::it
