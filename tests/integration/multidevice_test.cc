// Several devices of one user (protocol.md §3 "Send", "Receipts"): the
// sender's devices get DEVICE copies, the reader's devices get DEVICE
// Signals when one of them reads, and the sender hears from which device.
#include <gtest/gtest.h>

#include "support/fixture.h"

namespace courier::it {
namespace {

class MultiDeviceTest : public CourierTest {};

TEST_F(MultiDeviceTest, DeviceCopiesAndAcksReachEverySenderDevice) {
  auto* a1 = Online("alice", "a1");
  auto* a2 = Online("alice", "a2");
  auto* a3 = Online("alice", "a3");
  auto* b1 = Online("bob", "b1");
  auto* b2 = Online("bob", "b2");
  ASSERT_TRUE(a1 && a2 && a3 && b1 && b2);

  ASSERT_TRUE(a2->Send(NewMessage("md1", "bob", "from a2")));
  for (auto* d : {a1, a3}) {
    auto copy = d->NextInbox(WithId("md1"));
    ASSERT_TRUE(copy) << d->device() << ":\n" << d->Pending();
    EXPECT_EQ(copy->signal_type(), kDevice);
    EXPECT_EQ(copy->signal_offset(), 1);
    EXPECT_EQ(copy->from().device(), "a2");
  }
  for (auto* d : {a1, a2, a3}) {
    auto ack = d->NextEvent(SenderAckFor("md1"));
    ASSERT_TRUE(ack) << d->device() << ":\n" << d->Pending();
    EXPECT_EQ(ack->signal_offset(), 1);
  }
  // The sending device gets the ack but not its own DEVICE copy, which
  // would have come before the ack on the same connection.
  for (const auto& m : a2->DrainInbox()) EXPECT_NE(m.id(), "md1") << Describe(m);
  for (auto* d : {b1, b2}) {
    auto copy = d->NextInbox(WithId("md1"));
    ASSERT_TRUE(copy) << d->device() << ":\n" << d->Pending();
    EXPECT_EQ(copy->signal_type(), kReceiver);
    EXPECT_EQ(copy->from().device(), "a2");
  }
}

TEST_F(MultiDeviceTest, ReadOnOneDeviceSyncsTheOthersAndTellsTheSender) {
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  auto* b2 = Online("bob", "b2");
  ASSERT_TRUE(a1 && b1 && b2);
  // bob writes first, so bob's log and alice's log differ:
  // alice's "hey" is bob's offset 2 and alice's offset 2, user_offset 2;
  // bob's note to himself makes it bob's offset 3.
  ASSERT_TRUE(SendAndWaitAck(*b1, NewMessage("hi", "alice", "hi")));
  ASSERT_TRUE(SendAndWaitAck(*b1, NewMessage("memo", "bob", "memo")));
  auto ack = SendAndWaitAck(*a1, NewMessage("hey", "bob", "hey"));
  ASSERT_TRUE(ack) << a1->Pending();
  EXPECT_EQ(ack->signal_offset(), 2);
  EXPECT_EQ(ack->user_offset(), 2);
  auto copy = b2->NextInbox(WithId("hey"));
  ASSERT_TRUE(copy) << b2->Pending();
  ASSERT_EQ(copy->signal_offset(), 3);

  v1::Signal read = Receipt(3, false, true);
  read.set_id("hey");
  ASSERT_TRUE(b2->Signal(read));

  for (auto* d : {b1, b2}) {
    auto sync = d->NextEvent(NoticeFor("hey", kDevice));
    ASSERT_TRUE(sync) << d->device() << ":\n" << d->Pending();
    EXPECT_EQ(sync->signal_offset(), 3);
    EXPECT_EQ(sync->user_offset(), 2);
    EXPECT_TRUE(sync->signal_ack_state().received());
    EXPECT_TRUE(sync->signal_ack_state().read());
  }
  auto told = a1->NextEvent(NoticeFor("hey", kReceiver));
  ASSERT_TRUE(told) << a1->Pending();
  EXPECT_EQ(told->signal_offset(), 2);
  EXPECT_EQ(told->user_offset(), 2);
  EXPECT_EQ(told->from().user(), "bob");
  EXPECT_EQ(told->from().device(), "b2");
  EXPECT_TRUE(told->signal_ack_state().send());
  EXPECT_TRUE(told->signal_ack_state().received());
  EXPECT_TRUE(told->signal_ack_state().read());
}

TEST_F(MultiDeviceTest, DeviceInboxIsPrivateToOneDevice) {
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  auto* b2 = Online("bob", "b2");
  ASSERT_TRUE(a1 && b1 && b2);
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("p1", "bob", "x")));

  ASSERT_TRUE(b1->Signal(PullRequest(0, 0)));
  ASSERT_TRUE(b1->NextDeviceEvent(PullResponse())) << b1->Pending();
  EXPECT_EQ(b1->DrainDeviceInbox().size(), 1u);
  // Sentinel for b2: its own pull, answered after b1's.
  ASSERT_TRUE(b2->Signal(PullRequest(0, 0)));
  ASSERT_TRUE(b2->NextDeviceEvent(PullResponse())) << b2->Pending();
  EXPECT_EQ(b2->DrainDeviceInbox().size(), 1u) << "b2 got b1's pull too";
  EXPECT_TRUE(b2->DrainDeviceEvents().empty()) << "b2 got b1's pull response";
}

}  // namespace
}  // namespace courier::it
