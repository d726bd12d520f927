// Dedup (protocol.md §3 "Dedup"): the key is (sender user, id), from any of
// the sender's devices; a repeat returns the original SENDER ack and creates
// nothing; the same id for a different message is id_conflict.
#include <algorithm>

#include <gtest/gtest.h>

#include "support/fixture.h"

namespace courier::it {
namespace {

class DedupTest : public CourierTest {};

TEST_F(DedupTest, ResendFromAnyDeviceReturnsOriginalAckAndNoNewCopies) {
  auto* a1 = Online("alice", "a1");
  auto* a2 = Online("alice", "a2");
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(a1 && a2 && b1);

  v1::Message m = NewMessage("dup", "bob", "once");
  auto first = SendAndWaitAck(*a1, m);
  ASSERT_TRUE(first) << a1->Pending();
  ASSERT_TRUE(a2->NextEvent(SenderAckFor("dup"))) << a2->Pending();
  ASSERT_TRUE(b1->NextInbox(WithId("dup"))) << b1->Pending();
  ASSERT_TRUE(a2->NextInbox(WithId("dup"))) << a2->Pending();

  // Same device, then another device of the same user (a client retry may
  // carry a new timestamp).
  ASSERT_TRUE(a1->Send(m));
  m.set_timestamp(m.timestamp() + 5000);
  ASSERT_TRUE(a2->Send(m));
  for (int i = 0; i < 2; ++i) {
    auto again = a1->NextEvent(SenderAckFor("dup"));
    ASSERT_TRUE(again) << a1->Pending();
    EXPECT_EQ(again->signal_offset(), first->signal_offset());
    EXPECT_EQ(again->user_offset(), first->user_offset());
    EXPECT_TRUE(again->signal_offset_state());
    EXPECT_TRUE(again->signal_ack_state().send());
    EXPECT_FALSE(again->has_error());
  }
  for (const auto& e : a2->DrainDeviceEvents()) {
    EXPECT_FALSE(e.has_error()) << "a duplicate is not an error: " << Describe(e);
  }

  // Sentinel: the next message gets the next offsets, and no copy of "dup"
  // arrived before it.
  auto next = SendAndWaitAck(*a1, NewMessage("next", "bob", "two"));
  ASSERT_TRUE(next) << a1->Pending();
  EXPECT_EQ(next->signal_offset(), first->signal_offset() + 1);
  EXPECT_EQ(next->user_offset(), first->user_offset() + 1);
  auto nc = b1->NextInbox(WithId("next"));
  ASSERT_TRUE(nc) << b1->Pending();
  EXPECT_EQ(nc->signal_offset(), 2);
  ASSERT_TRUE(a2->NextInbox(WithId("next"))) << a2->Pending();
  for (const auto& c : b1->DrainInbox()) EXPECT_NE(c.id(), "dup") << Describe(c);
  for (const auto& c : a2->DrainInbox()) EXPECT_NE(c.id(), "dup") << Describe(c);
}

TEST_F(DedupTest, SameIdTwiceInOneBurstStoresOnce) {
  auto* a1 = Online("alice", "a1");
  auto* a2 = Online("alice", "a2");
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(a1 && a2 && b1);
  // QoS 0 publishes, back to back from two devices: very likely one batch.
  const std::string bytes = Bytes(NewMessage("burst", "bob", "same"));
  ASSERT_TRUE(a1->client().Publish(SendTopic("alice"), bytes, 0));
  ASSERT_TRUE(a2->client().Publish(SendTopic("alice"), bytes, 0));
  ASSERT_TRUE(a1->client().Publish(SendTopic("alice"), bytes, 0));
  for (int i = 0; i < 3; ++i) {
    auto ack = a1->NextEvent(SenderAckFor("burst"));
    ASSERT_TRUE(ack) << "ack #" << i << "\n" << a1->Pending();
    EXPECT_EQ(ack->signal_offset(), 1);
    EXPECT_EQ(ack->user_offset(), 1);
  }
  auto next = SendAndWaitAck(*a1, NewMessage("after-burst", "bob", "x"));
  ASSERT_TRUE(next) << a1->Pending();
  EXPECT_EQ(next->signal_offset(), 2);
  ASSERT_TRUE(b1->NextInbox(WithId("after-burst"))) << b1->Pending();
  auto copies = b1->DrainInbox();
  EXPECT_EQ(std::count_if(copies.begin(), copies.end(), [](const v1::Message& m) { return m.id() == "burst"; }), 1)
      << "bob must get exactly one copy";
}

TEST_F(DedupTest, SameIdDifferentContentIsIdConflict) {
  auto* a1 = Online("alice", "a1");
  auto* a2 = Online("alice", "a2");
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(a1 && a2 && b1);
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("k", "bob", "original")));
  ASSERT_TRUE(b1->NextInbox(WithId("k"))) << b1->Pending();

  ASSERT_TRUE(a1->Send(NewMessage("k", "bob", "changed payload")));
  EXPECT_TRUE(GotPermanentError(*a1, "k", "id_conflict"));

  // From another device, to another recipient: still alice's id.
  ASSERT_TRUE(a2->Send(NewMessage("k", "carol", "original")));
  EXPECT_TRUE(GotPermanentError(*a2, "k", "id_conflict"));

  // Nothing was stored: the next message is offset 2 for both.
  auto next = SendAndWaitAck(*a1, NewMessage("k2", "bob", "x"));
  ASSERT_TRUE(next) << a1->Pending();
  EXPECT_EQ(next->signal_offset(), 2);
  auto nc = b1->NextInbox(WithId("k2"));
  ASSERT_TRUE(nc) << b1->Pending();
  EXPECT_EQ(nc->signal_offset(), 2);
  for (const auto& c : b1->DrainInbox()) EXPECT_NE(c.id(), "k") << Describe(c);
}

TEST_F(DedupTest, IdsAreScopedPerSenderUser) {
  auto* a1 = Online("alice", "a1");
  auto* c1 = Online("carol", "c1");
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(a1 && c1 && b1);
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("same", "bob", "from alice")));
  auto ack = SendAndWaitAck(*c1, NewMessage("same", "bob", "from carol"));
  ASSERT_TRUE(ack) << c1->Pending();
  EXPECT_EQ(ack->signal_offset(), 1);
  auto first = b1->NextInbox(WithId("same"));
  auto second = b1->NextInbox(WithId("same"));
  ASSERT_TRUE(first && second) << b1->Pending();
  EXPECT_EQ(first->from().user(), "alice");
  EXPECT_EQ(second->from().user(), "carol");
  EXPECT_EQ(second->signal_offset(), 2);
}

}  // namespace
}  // namespace courier::it
