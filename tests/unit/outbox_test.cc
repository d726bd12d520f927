#include "outbox.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace courier::plugin {
namespace {

core::Publish P(const std::string& topic) { return core::Publish{topic, "x", {}, 0}; }

TEST(OutboxTest, TakeReturnsEverythingPutInOrderAndEmpties) {
  Outbox box;
  EXPECT_TRUE(box.Take().publishes.empty());
  box.Put({{P("a"), P("b")}, {}});
  box.Put({{P("c")}, {"it failed"}});
  Outbox::Contents got = box.Take();
  ASSERT_EQ(got.publishes.size(), 3u);
  EXPECT_EQ(got.publishes[0].topic, "a");
  EXPECT_EQ(got.publishes[1].topic, "b");
  EXPECT_EQ(got.publishes[2].topic, "c");
  ASSERT_EQ(got.failures.size(), 1u);
  EXPECT_EQ(got.failures[0], "it failed");
  EXPECT_TRUE(box.Take().publishes.empty());
  EXPECT_TRUE(box.Take().failures.empty());
}

// One thread puts while another takes: nothing is lost or repeated, and
// each producer's order holds.
TEST(OutboxTest, PutAndTakeFromTwoThreads) {
  Outbox box;
  constexpr int kN = 20000;
  std::thread producer([&] {
    for (int i = 0; i < kN; ++i) box.Put({{P(std::to_string(i))}, {}});
  });
  std::vector<std::string> got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (got.size() < kN && std::chrono::steady_clock::now() < deadline) {
    for (auto& p : box.Take().publishes) got.push_back(std::move(p.topic));
    std::this_thread::yield();
  }
  producer.join();
  for (auto& p : box.Take().publishes) got.push_back(std::move(p.topic));
  ASSERT_EQ(got.size(), static_cast<size_t>(kN));
  for (int i = 0; i < kN; ++i) ASSERT_EQ(got[i], std::to_string(i));
}

}  // namespace
}  // namespace courier::plugin
