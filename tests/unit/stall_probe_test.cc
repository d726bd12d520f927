#include "stall_probe.h"

#include <gtest/gtest.h>

namespace courier::bench {
namespace {

TEST(StallsTest, CountsOnlyWakeUpsAtLeastTheThresholdLate) {
  Stalls s;
  s.Add(0);
  s.Add(Stalls::kStallNs - 1);
  s.Add(Stalls::kStallNs);
  s.Add(100'000'000);
  EXPECT_EQ(s.wakeups, 4);
  EXPECT_EQ(s.stalls, 2);
  EXPECT_EQ(s.stalled_ns, Stalls::kStallNs + 100'000'000);
  EXPECT_EQ(s.worst_ns, 100'000'000);
}

TEST(StallsTest, OneHundredMillisecondStallDisturbsAnEightSecondWindow) {
  Stalls s;
  s.Add(100'000'000);  // what the shared VM showed under load
  EXPECT_TRUE(s.Disturbed(8.0));
}

TEST(StallsTest, ShortLateWakeUpsDoNotDisturbAWindow) {
  Stalls s;
  for (int i = 0; i < 4000; ++i) s.Add(12'000'000);  // waiting for busy cores: no stall
  EXPECT_EQ(s.stalls, 0);
  EXPECT_FALSE(s.Disturbed(8.0));
  s.Add(Stalls::kStallNs);  // 20 ms of stalls in 8 s: 0.25 %
  EXPECT_FALSE(s.Disturbed(8.0));
  s.Add(Stalls::kStallNs);  // 40 ms: 0.5 %
  EXPECT_TRUE(s.Disturbed(8.0));
}

TEST(StallsTest, NoWindowIsNeverDisturbed) {
  Stalls s;
  s.Add(100'000'000);
  EXPECT_FALSE(s.Disturbed(0));
}

TEST(StallsTest, MergeAddsTheStallsOfEveryCpuAndKeepsTheWorst) {
  Stalls a, b;
  a.realtime = b.realtime = true;
  a.Add(30'000'000);
  b.Add(100'000'000);
  b.Add(1'000'000);
  a.Merge(b);
  EXPECT_EQ(a.wakeups, 3);
  EXPECT_EQ(a.stalls, 2);
  EXPECT_EQ(a.stalled_ns, 130'000'000);
  EXPECT_EQ(a.worst_ns, 100'000'000);
  EXPECT_TRUE(a.realtime);
  b.realtime = false;
  a.Merge(b);
  EXPECT_FALSE(a.realtime);
}

TEST(StallProbeTest, StopWithoutStartReportsNothing) {
  StallProbe p;
  Stalls s = p.Stop();
  EXPECT_EQ(s.wakeups, 0);
}

TEST(StallProbeTest, WakesRepeatedlyUntilStopped) {
  StallProbe p;
  p.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Stalls s = p.Stop();
  // 50 ms at one wake-up per 2 ms on each CPU; a busy CI machine may give
  // fewer.
  EXPECT_GE(s.wakeups, 3);
}

TEST(StallProbeTest, CanStartAgainAfterStop) {
  StallProbe p;
  p.Start();
  p.Stop();
  p.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_GE(p.Stop().wakeups, 1);
}

}  // namespace
}  // namespace courier::bench
