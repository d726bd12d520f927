// Send flow (protocol.md §3 "Send", "Offsets"): RECEIVER copy, DEVICE copy,
// SENDER ack, server-assigned offsets, overwritten `from`.
#include <gtest/gtest.h>

#include "support/fixture.h"

namespace courier::it {
namespace {

class SendTest : public CourierTest {};

TEST_F(SendTest, OneToOneDeliversReceiverCopyDeviceCopyAndSenderAck) {
  auto* a1 = Online("alice", "a1");
  auto* a2 = Online("alice", "a2");
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(a1 && a2 && b1);

  v1::Message m = NewMessage("m1", "bob", "hello bob");
  m.mutable_from()->set_user("mallory");  // spoofed: the server must overwrite it
  m.mutable_from()->set_device("evil");
  m.set_timestamp(1700000000123);
  ASSERT_TRUE(a1->Send(m));

  auto rc = b1->NextInbox(WithId("m1"));
  ASSERT_TRUE(rc) << b1->Pending();
  EXPECT_EQ(rc->signal_type(), kReceiver) << Describe(*rc);
  EXPECT_EQ(rc->signal_offset(), 1);
  EXPECT_EQ(rc->user_offset(), 1);
  EXPECT_EQ(rc->from().user(), "alice");
  EXPECT_EQ(rc->from().device(), "a1");
  EXPECT_EQ(rc->to().user(), "bob");
  EXPECT_EQ(rc->payload(), "hello bob");
  EXPECT_EQ(rc->timestamp(), 1700000000123);
  EXPECT_GT(rc->server_timestamp(), 0);
  EXPECT_TRUE(rc->signal_offset_state());
  EXPECT_TRUE(rc->signal_ack_state().send());
  EXPECT_FALSE(rc->signal_ack_state().received());
  EXPECT_FALSE(rc->signal_ack_state().read());

  auto dc = a2->NextInbox(WithId("m1"));
  ASSERT_TRUE(dc) << a2->Pending();
  EXPECT_EQ(dc->signal_type(), kDevice) << Describe(*dc);
  EXPECT_EQ(dc->signal_offset(), 1);
  EXPECT_EQ(dc->user_offset(), 1);
  EXPECT_EQ(dc->from().user(), "alice");
  EXPECT_EQ(dc->from().device(), "a1");
  EXPECT_EQ(dc->to().user(), "bob");
  EXPECT_EQ(dc->payload(), "hello bob");
  EXPECT_GT(dc->server_timestamp(), 0);
  EXPECT_TRUE(dc->signal_offset_state());
  EXPECT_TRUE(dc->signal_ack_state().send());

  auto ack = a1->NextEvent(SenderAckFor("m1"));
  ASSERT_TRUE(ack) << a1->Pending();
  EXPECT_EQ(ack->type(), kResponse);
  EXPECT_EQ(ack->signal_type(), kSender);
  EXPECT_EQ(ack->signal_offset(), 1);
  EXPECT_EQ(ack->user_offset(), 1);
  EXPECT_TRUE(ack->signal_offset_state());
  EXPECT_TRUE(ack->signal_ack_state().send());
  EXPECT_FALSE(ack->has_error());
  EXPECT_EQ(ack->timestamp(), rc->server_timestamp()) << "ack timestamp is the server's";
  EXPECT_EQ(ack->from().user(), "alice");
  EXPECT_EQ(ack->from().device(), "a1");
  EXPECT_EQ(ack->to().user(), "bob");
  // Every device of the sender sees the ack.
  EXPECT_TRUE(a2->NextEvent(SenderAckFor("m1"))) << a2->Pending();

  // The sending device is subscribed to its user's inbox too, but the
  // DEVICE copy is left out for it (plugin_opt_echo_to_sending_device
  // false): it has the message and the ack. The next entry of alice's log
  // reaches it, so nothing else is being held back.
  ASSERT_TRUE(b1->Send(NewMessage("m2", "alice", "hello alice")));
  auto next = a1->NextInbox(WithId("m2"));
  ASSERT_TRUE(next) << a1->Pending();
  EXPECT_EQ(next->signal_offset(), 2);
  for (const auto& m : a1->DrainInbox()) EXPECT_NE(m.id(), "m1") << Describe(m);
  // Pulling its log returns the entry like any other.
  ASSERT_TRUE(a1->Signal(PullRequest(0, 10)));
  auto pulled = a1->NextDeviceInbox(WithId("m1"));
  ASSERT_TRUE(pulled) << a1->Pending();
  EXPECT_EQ(pulled->signal_type(), kDevice);
  EXPECT_EQ(pulled->signal_offset(), 1);
}

class SendEchoTest : public CourierTest {
 protected:
  BrokerOptions Options() const override {
    BrokerOptions o;
    o.plugin_opts = {{"echo_to_sending_device", "true"}};
    return o;
  }
};

TEST_F(SendEchoTest, SendingDeviceGetsItsDeviceCopyWhenEchoIsOn) {
  auto* a1 = Online("alice", "a1");
  auto* a2 = Online("alice", "a2");
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(a1 && a2 && b1);
  ASSERT_TRUE(a1->Send(NewMessage("m1", "bob", "hello bob")));
  for (auto* d : {a1, a2}) {
    auto dc = d->NextInbox(WithId("m1"));
    ASSERT_TRUE(dc) << d->Pending();
    EXPECT_EQ(dc->signal_type(), kDevice);
    EXPECT_EQ(dc->signal_offset(), 1);
    EXPECT_EQ(dc->from().device(), "a1");
  }
  EXPECT_TRUE(a1->NextEvent(SenderAckFor("m1"))) << a1->Pending();
  EXPECT_TRUE(b1->NextInbox(WithId("m1"))) << b1->Pending();
}

TEST_F(SendTest, OffsetsCountBothLogsAndEachConversation) {
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  auto* c1 = Online("carol", "c1");
  ASSERT_TRUE(a1 && b1 && c1);

  for (int i = 1; i <= 2; ++i) {
    auto ack = SendAndWaitAck(*a1, NewMessage("ab" + std::to_string(i), "bob", "x"));
    ASSERT_TRUE(ack) << a1->Pending();
    EXPECT_EQ(ack->signal_offset(), i);
    EXPECT_EQ(ack->user_offset(), i);
    auto rc = b1->NextInbox(WithId("ab" + std::to_string(i)));
    ASSERT_TRUE(rc) << b1->Pending();
    EXPECT_EQ(rc->signal_offset(), i);
    EXPECT_EQ(rc->user_offset(), i);
  }

  // Bob replies: third entry of both logs, third message of the conversation.
  auto reply_ack = SendAndWaitAck(*b1, NewMessage("ba1", "alice", "y"));
  ASSERT_TRUE(reply_ack) << b1->Pending();
  EXPECT_EQ(reply_ack->signal_offset(), 3);
  EXPECT_EQ(reply_ack->user_offset(), 3);
  auto reply = a1->NextInbox(WithId("ba1"));
  ASSERT_TRUE(reply) << a1->Pending();
  EXPECT_EQ(reply->signal_type(), kReceiver);
  EXPECT_EQ(reply->signal_offset(), 3);
  EXPECT_EQ(reply->user_offset(), 3);
  EXPECT_EQ(reply->from().user(), "bob");
  EXPECT_EQ(reply->from().device(), "b1");

  // A new conversation starts at user_offset 1; alice's log goes on.
  auto ac_ack = SendAndWaitAck(*a1, NewMessage("ac1", "carol", "z"));
  ASSERT_TRUE(ac_ack) << a1->Pending();
  EXPECT_EQ(ac_ack->signal_offset(), 4);
  EXPECT_EQ(ac_ack->user_offset(), 1);
  auto rc = c1->NextInbox(WithId("ac1"));
  ASSERT_TRUE(rc) << c1->Pending();
  EXPECT_EQ(rc->signal_offset(), 1);
  EXPECT_EQ(rc->user_offset(), 1);
}

TEST_F(SendTest, SendToSelfMakesOneEntryOnly) {
  auto* a1 = Online("alice", "a1");
  auto* a2 = Online("alice", "a2");
  ASSERT_TRUE(a1 && a2);

  auto ack1 = SendAndWaitAck(*a1, NewMessage("note1", "alice", "remember"));
  ASSERT_TRUE(ack1) << a1->Pending();
  EXPECT_EQ(ack1->signal_offset(), 1);
  EXPECT_EQ(ack1->user_offset(), 1);
  auto copy = a2->NextInbox(WithId("note1"));
  ASSERT_TRUE(copy) << a2->Pending();
  EXPECT_EQ(copy->signal_type(), kDevice);
  EXPECT_EQ(copy->signal_offset(), 1);

  // The next entry is offset 2: the first message took one place only.
  auto ack2 = SendAndWaitAck(*a1, NewMessage("note2", "alice", "again"));
  ASSERT_TRUE(ack2) << a1->Pending();
  EXPECT_EQ(ack2->signal_offset(), 2);
  EXPECT_EQ(ack2->user_offset(), 2);

  // Sentinel: a message to someone else; by its DEVICE copy, every copy of
  // the notes has arrived. None of them may be a RECEIVER copy.
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("sentinel", "bob", "s")));
  ASSERT_TRUE(a2->NextInbox(WithId("sentinel"))) << a2->Pending();
  for (const auto& m : a2->DrainInbox()) {
    EXPECT_NE(m.signal_type(), kReceiver) << "unexpected copy " << Describe(m);
    EXPECT_NE(m.id(), "note1") << "duplicate copy " << Describe(m);
  }
}

TEST_F(SendTest, ManyMessagesKeepOrderAndContiguousOffsets) {
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(a1 && b1);
  constexpr int kCount = 50;
  for (int i = 1; i <= kCount; ++i) {
    ASSERT_TRUE(a1->Send(NewMessage("n" + std::to_string(i), "bob", std::to_string(i))));
  }
  auto copies = b1->client().WaitForCount(b1->inbox(), kCount);
  ASSERT_EQ(copies.size(), size_t{kCount}) << b1->Pending();
  for (int i = 1; i <= kCount; ++i) {
    auto m = ParseMessage(copies[i - 1].payload);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->id(), "n" + std::to_string(i));
    EXPECT_EQ(m->signal_offset(), i);
    EXPECT_EQ(m->user_offset(), i);
  }
}

}  // namespace
}  // namespace courier::it
