// LoopKicker: wakes the broker thread after a publish until two ticks have
// started, and never otherwise. Presence: which devices came over WebSockets.
#include "loop_kicker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "presence.h"

namespace courier::plugin {
namespace {

using namespace std::chrono_literals;

// Waits (up to 10 s, a liveness bound, not a speed target) until pred().
template <typename Pred>
bool Eventually(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(LoopKickerTest, IdleKickerNeverWakes) {
  std::atomic<int> wakes{0};
  LoopKicker kicker([&] { ++wakes; }, 200us);
  kicker.Tick();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(wakes.load(), 0);
}

TEST(LoopKickerTest, KicksAfterPublishUntilTwoTicksStarted) {
  std::atomic<int> wakes{0};
  LoopKicker kicker([&] { ++wakes; }, 200us);
  kicker.Published();
  // The loop is "asleep": no tick comes, so the kicker keeps kicking.
  ASSERT_TRUE(Eventually([&] { return wakes.load() >= 3; }));
  kicker.Tick();
  EXPECT_GE(kicker.kicks(), 3u);  // one tick is not enough
  kicker.Tick();
  const uint64_t after = kicker.kicks();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(kicker.kicks(), after);
  EXPECT_EQ(static_cast<uint64_t>(wakes.load()), after);
}

TEST(LoopKickerTest, APublishDuringKickingExtendsIt) {
  std::atomic<int> wakes{0};
  LoopKicker kicker([&] { ++wakes; }, 200us);
  kicker.Published();
  kicker.Tick();
  kicker.Published();  // two more ticks from here
  kicker.Tick();
  const int before = wakes.load();
  ASSERT_TRUE(Eventually([&] { return wakes.load() > before; }));
  kicker.Tick();
  const uint64_t after = kicker.kicks();
  std::this_thread::sleep_for(20ms);
  EXPECT_EQ(kicker.kicks(), after);
}

TEST(LoopKickerTest, DestroyedWhileKicking) {
  std::atomic<int> wakes{0};
  {
    LoopKicker kicker([&] { ++wakes; }, 100us);
    kicker.Published();
    ASSERT_TRUE(Eventually([&] { return wakes.load() >= 1; }));
  }  // joins without a tick
  SUCCEED();
}

TEST(PresenceTest, WebSocketDevicesAreTrackedUntilTheyLeave) {
  Presence p;
  EXPECT_FALSE(p.AnyWebSocket());
  p.Connected("alice", "phone", false);
  EXPECT_FALSE(p.AnyWebSocket());
  p.Connected("bob", "web", true);
  EXPECT_TRUE(p.AnyWebSocket());
  EXPECT_TRUE(p.IsConnected("bob", "web"));
  p.Disconnected("bob", "web");
  EXPECT_FALSE(p.AnyWebSocket());
  EXPECT_TRUE(p.IsConnected("alice", "phone"));
}

}  // namespace
}  // namespace courier::plugin
