// core/edge_follower.h: watermarks, claims and catch-up pulls.
#include "edge_follower.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace courier::core {
namespace {

using storage::PullRequest;
using storage::PullResult;

constexpr int64_t kT0 = 1'700'000'000'000;

v1::Message Entry(int32_t offset) {
  v1::Message m;
  m.set_id("m" + std::to_string(offset));
  m.set_signal_offset(offset);
  m.set_signal_type(3);
  return m;
}

// A log holding entries 1..head; a pull of it as the store answers.
PullResult Answer(const PullRequest& req, int32_t head) {
  PullResult r;
  r.head = head;
  r.reached = std::min(req.after, head);
  if (req.limit == 0) return r;
  for (int32_t o = req.after + 1; o <= head && r.entries.size() < req.limit; ++o) r.entries.push_back(Entry(o));
  r.reached = r.entries.empty() ? head : r.entries.back().signal_offset();
  return r;
}

std::vector<int32_t> Offsets(const std::vector<v1::Message>& ms) {
  std::vector<int32_t> out;
  for (const auto& m : ms) out.push_back(m.signal_offset());
  return out;
}

class EdgeFollowerTest : public ::testing::Test {
 protected:
  // bob becomes present and the first pull reads his head.
  void Follow(int32_t head, int64_t now = kT0) {
    f_.Present("bob", now);
    auto due = f_.Due(now);
    ASSERT_EQ(due.size(), 1u);
    EXPECT_EQ(due[0].limit, 0u);
    EXPECT_TRUE(EdgeFollower::IsCatchUp(due[0]));
    EXPECT_TRUE(f_.Caught(due[0], Answer(due[0], head), now).empty());
    EXPECT_EQ(f_.Watermark("bob"), head);
  }
  EdgeFollower f_{EdgeFollower::Options{.catchup_ms = 1000, .pull_limit = 2, .max_pulls = 10}};
};

TEST_F(EdgeFollowerTest, StartsAtTheHeadAndPullsEveryInterval) {
  Follow(5);
  EXPECT_TRUE(f_.Due(kT0 + 999).empty());
  auto due = f_.Due(kT0 + 1000);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].user, "bob");
  EXPECT_EQ(due[0].after, 5);
  EXPECT_EQ(due[0].limit, 2u);
  EXPECT_TRUE(f_.Due(kT0 + 5000).empty()) << "one pull in flight per user";
  EXPECT_TRUE(f_.Caught(due[0], Answer(due[0], 5), kT0 + 1000).empty());
  EXPECT_EQ(f_.Due(kT0 + 1999).size(), 0u);
  EXPECT_EQ(f_.Due(kT0 + 2000).size(), 1u);
}

TEST_F(EdgeFollowerTest, CatchUpPublishesWhatNoHintBroughtAndPullsOnWhileBehind) {
  Follow(5);
  EXPECT_TRUE(f_.Claim("bob", 7));  // a hint brought 7; 6 was lost
  EXPECT_EQ(f_.Watermark("bob"), 5);
  auto due = f_.Due(kT0 + 1000);
  ASSERT_EQ(due.size(), 1u);
  auto got = f_.Caught(due[0], Answer(due[0], 9), kT0 + 1000);
  EXPECT_EQ(Offsets(got), std::vector<int32_t>{6});  // 7 was published already
  EXPECT_EQ(f_.Watermark("bob"), 7);
  due = f_.Due(kT0 + 1000);  // behind the head: at once
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].after, 7);
  EXPECT_EQ(Offsets(f_.Caught(due[0], Answer(due[0], 9), kT0 + 1000)), (std::vector<int32_t>{8, 9}));
  EXPECT_EQ(f_.Watermark("bob"), 9);
  EXPECT_TRUE(f_.Due(kT0 + 1500).empty());
}

TEST_F(EdgeFollowerTest, ClaimsAdvanceTheWatermarkAndRefuseRepeats) {
  Follow(5);
  EXPECT_TRUE(f_.Claim("bob", 6));
  EXPECT_FALSE(f_.Claim("bob", 6));
  EXPECT_FALSE(f_.Claim("bob", 3));
  EXPECT_TRUE(f_.Claim("bob", 8));
  EXPECT_EQ(f_.Watermark("bob"), 6);
  EXPECT_TRUE(f_.Claim("bob", 7));
  EXPECT_EQ(f_.Watermark("bob"), 8);
  EXPECT_FALSE(f_.Claim("carol", 1)) << "not followed";
}

TEST_F(EdgeFollowerTest, ClaimsBeforeTheHeadIsKnownCount) {
  f_.Present("bob", kT0);
  auto due = f_.Due(kT0);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_TRUE(f_.Claim("bob", 4));  // a hint while the first pull is out
  EXPECT_TRUE(f_.Claim("bob", 6));
  f_.Caught(due[0], Answer(due[0], 5), kT0);
  EXPECT_EQ(f_.Watermark("bob"), 6);
}

TEST_F(EdgeFollowerTest, HintMakesThePullDueAtOnceEvenWhileOneIsOut) {
  Follow(5);
  f_.Hinted("bob", kT0 + 10);
  auto due = f_.Due(kT0 + 10);
  ASSERT_EQ(due.size(), 1u);
  f_.Hinted("bob", kT0 + 20);  // while in flight
  EXPECT_TRUE(f_.Due(kT0 + 20).empty());
  f_.Caught(due[0], Answer(due[0], 5), kT0 + 30);
  EXPECT_EQ(f_.Due(kT0 + 30).size(), 1u);
  f_.Hinted("carol", kT0);  // not followed: nothing
  EXPECT_FALSE(f_.Follows("carol"));
}

TEST_F(EdgeFollowerTest, AbsentForgetsAndStaleResultsAreIgnored) {
  Follow(5);
  auto due = f_.Due(kT0 + 1000);
  ASSERT_EQ(due.size(), 1u);
  f_.Absent("bob");
  EXPECT_FALSE(f_.Follows("bob"));
  f_.Present("bob", kT0 + 1001);  // back before the old pull returned
  EXPECT_TRUE(f_.Caught(due[0], Answer(due[0], 9), kT0 + 1002).empty());
  EXPECT_EQ(f_.Watermark("bob"), -1) << "the new presence starts from its own head";
  auto fresh = f_.Due(kT0 + 1002);
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_EQ(fresh[0].limit, 0u);
}

TEST_F(EdgeFollowerTest, FailedPullIsRetriedAfterTheInterval) {
  Follow(5);
  auto due = f_.Due(kT0 + 1000);
  f_.Failed(due.at(0), kT0 + 1000);
  EXPECT_TRUE(f_.Due(kT0 + 1999).empty());
  EXPECT_EQ(f_.Due(kT0 + 2000).size(), 1u);
}

TEST_F(EdgeFollowerTest, ExpiredEntriesMoveTheWatermarkPastThem) {
  Follow(5);
  auto due = f_.Due(kT0 + 1000);
  PullResult r;
  r.head = 7;
  r.reached = 7;
  r.entries.push_back(Entry(7));  // 6 expired
  EXPECT_EQ(Offsets(f_.Caught(due.at(0), r, kT0 + 1000)), std::vector<int32_t>{7});
  EXPECT_EQ(f_.Watermark("bob"), 7);
}

TEST_F(EdgeFollowerTest, AtMostMaxPullsPerCall) {
  for (int i = 0; i < 25; ++i) f_.Present("u" + std::to_string(i), kT0);
  EXPECT_EQ(f_.Due(kT0).size(), 10u);
  EXPECT_EQ(f_.Due(kT0).size(), 10u);
  EXPECT_EQ(f_.Due(kT0).size(), 5u);
  EXPECT_EQ(f_.followed(), 25u);
}

TEST_F(EdgeFollowerTest, ClientPullsAreNotCatchUps) {
  PullRequest client{.user = "bob", .device = "phone", .after = -1, .limit = 10, .now_ms = kT0, .reply = nullptr};
  EXPECT_FALSE(EdgeFollower::IsCatchUp(client));
}

}  // namespace
}  // namespace courier::core
