// Transient messages (Message.transient): published at once to the
// receiver's inbox (devices online now), never stored, never deduplicated,
// no offsets. The sender gets a SENDER Signal with offsets 0 and ack state
// {send}, and no DEVICE copy.
#include <gtest/gtest.h>

#include "support/feature_fixture.h"

namespace courier::it {
namespace {

class TransientTest : public FeatureTest {};

v1::Message Transient(const std::string& id, const std::string& to, const std::string& payload) {
  v1::Message m = NewMessage(id, to, payload);
  m.set_transient(true);
  return m;
}

// Checks the SENDER Signal a transient message gets.
void ExpectTransientAck(const std::optional<v1::Signal>& ack) {
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->type(), kResponse) << Describe(*ack);
  EXPECT_EQ(ack->signal_type(), kSender) << Describe(*ack);
  EXPECT_TRUE(ack->signal_offset_state()) << Describe(*ack);
  EXPECT_EQ(ack->signal_offset(), 0) << Describe(*ack);
  EXPECT_EQ(ack->user_offset(), 0) << Describe(*ack);
  EXPECT_TRUE(ack->signal_ack_state().send()) << Describe(*ack);
  EXPECT_FALSE(ack->signal_ack_state().received()) << Describe(*ack);
  EXPECT_FALSE(ack->has_error()) << Describe(*ack);
}

TEST_F(TransientTest, ReachesOnlineDevicesOnlyAndIsAbsentFromEveryLog) {
  auto* a1 = Online("alice", "a1");
  auto* a2 = Online("alice", "a2");
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(a1 && a2 && b1);

  ASSERT_TRUE(a1->Send(Transient("t1", "bob", "ping")));
  auto got = b1->NextInbox(WithId("t1"));
  ASSERT_TRUE(got) << b1->Pending();
  EXPECT_TRUE(got->transient()) << Describe(*got);
  EXPECT_EQ(got->signal_type(), kReceiver) << Describe(*got);
  EXPECT_EQ(got->signal_offset(), 0) << Describe(*got);
  EXPECT_EQ(got->user_offset(), 0) << Describe(*got);
  EXPECT_EQ(got->payload(), "ping");
  EXPECT_EQ(got->from().user(), "alice");
  EXPECT_EQ(got->from().device(), "a1");
  EXPECT_EQ(got->to().user(), "bob");
  EXPECT_GT(got->server_timestamp(), 0);
  ASSERT_NO_FATAL_FAILURE(ExpectTransientAck(a1->NextEvent(SenderAckFor("t1"))));

  // A stored message sent afterwards gets the first offsets on both sides,
  // and is the first thing alice's other device sees: no DEVICE copy of t1.
  auto ack = SendAndWaitAck(*a1, NewMessage("m1", "bob", "stored"));
  ASSERT_TRUE(ack) << a1->Pending();
  EXPECT_EQ(ack->signal_offset(), 1);
  EXPECT_EQ(ack->user_offset(), 1);
  auto first = a2->NextInbox();
  ASSERT_TRUE(first) << a2->Pending();
  EXPECT_EQ(first->id(), "m1") << Describe(*first);
  auto b_m1 = b1->NextInbox(WithId("m1"));
  ASSERT_TRUE(b_m1) << b1->Pending();
  EXPECT_EQ(b_m1->signal_offset(), 1);

  // A device that was offline never gets it; no log holds it.
  auto* b2 = Online("bob", "b2");
  ASSERT_TRUE(b2);
  for (auto* d : {b2, b1, a1}) {
    SCOPED_TRACE(d->user() + "/" + d->device());
    auto r = Pull(*d, 0);
    ASSERT_TRUE(r.response);
    EXPECT_EQ(r.response->signal_offset(), 1) << "head";
    EXPECT_EQ(Ids(r.entries), (std::vector<std::string>{"m1"}));
  }
  for (const auto& m : b2->DrainInbox()) ADD_FAILURE() << "b2 got " << Describe(m);
}

TEST_F(TransientTest, IsNotDeduplicated) {
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(a1 && b1);
  ASSERT_TRUE(a1->Send(Transient("t1", "bob", "one")));
  ASSERT_TRUE(a1->Send(Transient("t1", "bob", "two")));  // same id, other content
  auto got = b1->client().WaitForCount(b1->inbox(), 2);
  ASSERT_EQ(got.size(), 2u) << b1->Pending();
  EXPECT_EQ(ParseMessage(got[0].payload)->payload(), "one");
  EXPECT_EQ(ParseMessage(got[1].payload)->payload(), "two");
  ASSERT_NO_FATAL_FAILURE(ExpectTransientAck(a1->NextEvent(SenderAckFor("t1"))));
  ASSERT_NO_FATAL_FAILURE(ExpectTransientAck(a1->NextEvent(SenderAckFor("t1"))));
  // No id_conflict for the second, and the id is still free for a stored message.
  auto ack = SendAndWaitAck(*a1, NewMessage("t1", "bob", "stored"));
  ASSERT_TRUE(ack) << a1->Pending();
  EXPECT_EQ(ack->signal_offset(), 1);
  for (const auto& e : a1->DrainDeviceEvents()) ADD_FAILURE() << "error: " << Describe(e);
}

TEST_F(TransientTest, OfflineReceiverNeverGetsIt) {
  auto* a1 = Online("alice", "a1");
  ASSERT_TRUE(a1);
  ASSERT_TRUE(a1->Send(Transient("t1", "carol", "you are not here")));
  ASSERT_NO_FATAL_FAILURE(ExpectTransientAck(a1->NextEvent(SenderAckFor("t1"))));
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("m1", "carol", "stored")));

  auto* c1 = Online("carol", "c1");
  ASSERT_TRUE(c1);
  auto r = Pull(*c1, 0);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(r.response->signal_offset(), 1);
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].id(), "m1");
  EXPECT_EQ(r.entries[0].signal_offset(), 1);
  for (const auto& m : c1->DrainInbox()) ADD_FAILURE() << "carol got " << Describe(m);
}

TEST_F(TransientTest, ToGroupReachesOnlineMembersOnly) {
  auto* admin = Admin();
  ASSERT_TRUE(admin);
  ASSERT_TRUE(admin->CreateGroup("g1", {"alice", "bob", "carol"}));
  auto* a1 = Online("alice", "a1");
  auto* a2 = Online("alice", "a2");
  auto* b1 = Online("bob", "b1");
  auto* d1 = Online("dave", "d1");
  ASSERT_TRUE(a1 && a2 && b1 && d1);

  ASSERT_TRUE(a1->Send([] {
    v1::Message m = GroupMessage("t1", "g1", "all of you");
    m.set_transient(true);
    return m;
  }()));
  auto got = b1->NextInbox(WithId("t1"));
  ASSERT_TRUE(got) << b1->Pending();
  EXPECT_TRUE(got->transient());
  EXPECT_EQ(got->signal_type(), kReceiver);
  EXPECT_EQ(got->signal_offset(), 0);
  EXPECT_EQ(got->to().group(), "g1");
  EXPECT_EQ(got->from().user(), "alice");
  ASSERT_NO_FATAL_FAILURE(ExpectTransientAck(a1->NextEvent(SenderAckFor("t1"))));

  // A non-member may not.
  v1::Message intruder = GroupMessage("t2", "g1", "hi");
  intruder.set_transient(true);
  ASSERT_TRUE(d1->Send(intruder));
  EXPECT_TRUE(GotPermanentError(*d1, "t2", "not_member"));

  // The next stored group message is everyone's first entry and the group's
  // user_offset 1; alice's other device sees it first.
  auto ack = SendAndWaitAck(*a1, GroupMessage("g-1", "g1", "stored"));
  ASSERT_TRUE(ack) << a1->Pending();
  EXPECT_EQ(ack->signal_offset(), 1);
  EXPECT_EQ(ack->user_offset(), 1);
  auto first = a2->NextInbox();
  ASSERT_TRUE(first) << a2->Pending();
  EXPECT_EQ(first->id(), "g-1") << "alice's devices get no copy of her transient message";
  auto b_next = b1->NextInbox();
  ASSERT_TRUE(b_next) << b1->Pending();
  EXPECT_EQ(b_next->id(), "g-1");
  EXPECT_EQ(b_next->signal_offset(), 1);

  auto* c1 = Online("carol", "c1");
  ASSERT_TRUE(c1);
  auto r = Pull(*c1, 0);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(r.response->signal_offset(), 1);
  EXPECT_EQ(Ids(r.entries), (std::vector<std::string>{"g-1"}));
  for (const auto& m : c1->DrainInbox()) ADD_FAILURE() << "carol got " << Describe(m);
}

}  // namespace
}  // namespace courier::it
