// Priority: Message.priority 0 (highest) .. 15. Within one PULL
// batch entries are sent highest priority first, stable by offset within a
// priority; every entry keeps its offset. Above 15 is invalid_priority.
#include <gtest/gtest.h>

#include "support/feature_fixture.h"

namespace courier::it {
namespace {

class PriorityTest : public FeatureTest {
 protected:
  // alice sends p1..pN to offline bob with the given priorities.
  void AliceSends(const std::vector<unsigned>& priorities) {
    a1 = Online("alice", "a1");
    ASSERT_TRUE(a1);
    for (size_t i = 0; i < priorities.size(); ++i) {
      v1::Message m = NewMessage("p" + std::to_string(i + 1), "bob", "x");
      m.set_priority(priorities[i]);
      auto ack = SendAndWaitAck(*a1, m);
      ASSERT_TRUE(ack) << a1->Pending();
      ASSERT_EQ(ack->signal_offset(), static_cast<int>(i + 1));
    }
  }
  static std::vector<unsigned> Priorities(const std::vector<v1::Message>& ms) {
    std::vector<unsigned> out;
    for (const auto& m : ms) out.push_back(m.priority());
    return out;
  }
  CourierDevice* a1 = nullptr;
};

TEST_F(PriorityTest, PullBatchIsSentHighestPriorityFirstKeepingOffsets) {
  ASSERT_NO_FATAL_FAILURE(AliceSends({5, 0, 15, 0, 5, 3}));
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(b1);
  auto r = Pull(*b1, 0);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(r.response->signal_offset(), 6);
  ASSERT_EQ(r.entries.size(), 6u) << b1->Pending();
  EXPECT_EQ(Offsets(r.entries), (std::vector<int>{2, 4, 6, 1, 5, 3}));
  EXPECT_EQ(Ids(r.entries), (std::vector<std::string>{"p2", "p4", "p6", "p1", "p5", "p3"}));
  EXPECT_EQ(Priorities(r.entries), (std::vector<unsigned>{0, 0, 3, 5, 5, 15}));
  for (const auto& m : r.entries) {
    EXPECT_EQ(m.user_offset(), m.signal_offset()) << "offsets unchanged: " << Describe(m);
  }
}

TEST_F(PriorityTest, PriorityReordersWithinOneBatchOnly) {
  ASSERT_NO_FATAL_FAILURE(AliceSends({5, 0, 15, 0, 5, 3}));
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(b1);
  // The first batch is offsets 1..3, the second 4..6.
  auto r1 = Pull(*b1, 0, 3);
  ASSERT_EQ(r1.entries.size(), 3u) << b1->Pending();
  EXPECT_EQ(Offsets(r1.entries), (std::vector<int>{2, 1, 3}));
  auto r2 = Pull(*b1, 3, 3);
  ASSERT_EQ(r2.entries.size(), 3u) << b1->Pending();
  EXPECT_EQ(Offsets(r2.entries), (std::vector<int>{4, 6, 5}));
  EXPECT_EQ(r2.response->signal_offset(), 6);
}

TEST_F(PriorityTest, PriorityAbove15IsRejected) {
  auto* a = Online("alice", "a1");
  ASSERT_TRUE(a);
  v1::Message bad = NewMessage("bad", "bob", "x");
  bad.set_priority(16);
  ASSERT_TRUE(a->Send(bad));
  EXPECT_TRUE(GotPermanentError(*a, "bad", "invalid_priority"));
  v1::Message lowest = NewMessage("lowest", "bob", "x");
  lowest.set_priority(15);
  auto ack = SendAndWaitAck(*a, lowest);
  ASSERT_TRUE(ack) << a->Pending();
  EXPECT_EQ(ack->signal_offset(), 1) << "the rejected message took no offset";
}

}  // namespace
}  // namespace courier::it
