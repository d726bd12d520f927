// Receipts (protocol.md §3 "Receipts"): received / read forwarded to the
// sender (RECEIVER Signal) and to the reader's devices (DEVICE Signal);
// never backwards, never twice; stored on both copies.
#include <gtest/gtest.h>

#include "support/fixture.h"

namespace courier::it {
namespace {

class ReceiptsTest : public CourierTest {
 protected:
  // alice sends a note to herself first, so her log offsets differ from bob's:
  // "m1" is alice's offset 2 and bob's offset 1.
  void SendSetup() {
    a1 = Online("alice", "a1");
    b1 = Online("bob", "b1");
    b2 = Online("bob", "b2");
    ASSERT_TRUE(a1 && b1 && b2);
    ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("self", "alice", "note")));
    auto ack = SendAndWaitAck(*a1, NewMessage("m1", "bob", "hi"));
    ASSERT_TRUE(ack) << a1->Pending();
    ASSERT_EQ(ack->signal_offset(), 2);
    auto copy = b1->NextInbox(WithId("m1"));
    ASSERT_TRUE(copy) << b1->Pending();
    ASSERT_EQ(copy->signal_offset(), 1);
  }

  static v1::Signal ReceiptFor(const std::string& id, int offset, bool received, bool read) {
    v1::Signal s = Receipt(offset, received, read);
    s.set_id(id);
    return s;
  }

  CourierDevice* a1 = nullptr;
  CourierDevice* b1 = nullptr;
  CourierDevice* b2 = nullptr;
};

TEST_F(ReceiptsTest, ReceivedThenReadReachSenderAndReaderDevices) {
  ASSERT_NO_FATAL_FAILURE(SendSetup());

  ASSERT_TRUE(b1->Signal(ReceiptFor("m1", 1, true, false)));
  auto to_sender = a1->NextEvent(NoticeFor("m1", kReceiver));
  ASSERT_TRUE(to_sender) << a1->Pending();
  EXPECT_EQ(to_sender->type(), kResponse);
  EXPECT_EQ(to_sender->signal_offset(), 2) << "must be the sender's own offset";
  EXPECT_EQ(to_sender->user_offset(), 1);
  EXPECT_TRUE(to_sender->signal_ack_state().send());
  EXPECT_TRUE(to_sender->signal_ack_state().received());
  EXPECT_FALSE(to_sender->signal_ack_state().read());
  EXPECT_EQ(to_sender->from().user(), "bob");
  EXPECT_EQ(to_sender->from().device(), "b1");

  auto to_reader = b2->NextEvent(NoticeFor("m1", kDevice));
  ASSERT_TRUE(to_reader) << b2->Pending();
  EXPECT_EQ(to_reader->signal_offset(), 1) << "must be the reader's offset";
  EXPECT_EQ(to_reader->user_offset(), 1);
  EXPECT_TRUE(to_reader->signal_ack_state().send());
  EXPECT_TRUE(to_reader->signal_ack_state().received());
  EXPECT_FALSE(to_reader->signal_ack_state().read());

  // read alone implies received.
  ASSERT_TRUE(b1->Signal(ReceiptFor("m1", 1, false, true)));
  to_sender = a1->NextEvent(NoticeFor("m1", kReceiver));
  ASSERT_TRUE(to_sender) << a1->Pending();
  EXPECT_EQ(to_sender->signal_offset(), 2);
  EXPECT_TRUE(to_sender->signal_ack_state().send());
  EXPECT_TRUE(to_sender->signal_ack_state().received());
  EXPECT_TRUE(to_sender->signal_ack_state().read());
  to_reader = b2->NextEvent(NoticeFor("m1", kDevice));
  ASSERT_TRUE(to_reader) << b2->Pending();
  EXPECT_EQ(to_reader->signal_offset(), 1);
  EXPECT_TRUE(to_reader->signal_ack_state().received());
  EXPECT_TRUE(to_reader->signal_ack_state().read());
}

TEST_F(ReceiptsTest, RepeatedOrBackwardReceiptPublishesNothing) {
  ASSERT_NO_FATAL_FAILURE(SendSetup());
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("m2", "bob", "second")));
  ASSERT_TRUE(b1->NextInbox(WithId("m2"))) << b1->Pending();

  ASSERT_TRUE(b1->Signal(ReceiptFor("m1", 1, true, true)));
  ASSERT_TRUE(a1->NextEvent(NoticeFor("m1", kReceiver))) << a1->Pending();
  ASSERT_TRUE(b2->NextEvent(NoticeFor("m1", kDevice))) << b2->Pending();

  // Same receipt again, then "received" after "read": both change nothing,
  // from the same device and from another one.
  ASSERT_TRUE(b1->Signal(ReceiptFor("m1", 1, true, true)));
  ASSERT_TRUE(b1->Signal(ReceiptFor("m1", 1, true, false)));
  ASSERT_TRUE(b2->Signal(ReceiptFor("m1", 1, false, true)));
  ASSERT_TRUE(b2->Signal(ReceiptFor("m1", 1, true, false)));

  // Sentinel: a receipt that does change something, sent afterwards.
  ASSERT_TRUE(b1->Signal(ReceiptFor("m2", 2, true, false)));
  auto s = a1->NextEvent(NoticeFor("m2", kReceiver));
  ASSERT_TRUE(s) << a1->Pending();
  EXPECT_EQ(s->signal_offset(), 3);
  ASSERT_TRUE(b2->NextEvent(NoticeFor("m2", kDevice))) << b2->Pending();

  for (const auto& e : a1->DrainEvents()) {
    EXPECT_NE(e.id(), "m1") << "unexpected notice to the sender: " << Describe(e);
  }
  for (const auto& e : b2->DrainEvents()) {
    EXPECT_NE(e.id(), "m1") << "unexpected notice to the reader: " << Describe(e);
  }
  for (const auto& e : b1->DrainDeviceEvents()) {
    EXPECT_FALSE(e.has_error()) << "a repeated receipt is not an error: " << Describe(e);
  }
}

TEST_F(ReceiptsTest, StateIsStoredOnBothCopies) {
  ASSERT_NO_FATAL_FAILURE(SendSetup());
  ASSERT_TRUE(b1->Signal(ReceiptFor("m1", 1, false, true)));
  ASSERT_TRUE(a1->NextEvent(NoticeFor("m1", kReceiver))) << a1->Pending();

  // The sender's DEVICE copy (alice offset 2) carries the read state.
  ASSERT_TRUE(a1->Signal(PullRequest(1, 1)));
  ASSERT_TRUE(a1->NextDeviceEvent(PullResponse())) << a1->Pending();
  auto mine = a1->DrainDeviceInbox();
  ASSERT_EQ(mine.size(), 1u) << a1->Pending();
  EXPECT_EQ(mine[0].id(), "m1");
  EXPECT_EQ(mine[0].signal_type(), kDevice);
  EXPECT_EQ(mine[0].signal_offset(), 2);
  EXPECT_TRUE(mine[0].signal_ack_state().send());
  EXPECT_TRUE(mine[0].signal_ack_state().received());
  EXPECT_TRUE(mine[0].signal_ack_state().read());

  // The reader's RECEIVER copy (bob offset 1) too, seen from another device.
  ASSERT_TRUE(b2->Signal(PullRequest(0, 1)));
  ASSERT_TRUE(b2->NextDeviceEvent(PullResponse())) << b2->Pending();
  auto theirs = b2->DrainDeviceInbox();
  ASSERT_EQ(theirs.size(), 1u) << b2->Pending();
  EXPECT_EQ(theirs[0].id(), "m1");
  EXPECT_EQ(theirs[0].signal_type(), kReceiver);
  EXPECT_EQ(theirs[0].signal_offset(), 1);
  EXPECT_TRUE(theirs[0].signal_ack_state().received());
  EXPECT_TRUE(theirs[0].signal_ack_state().read());
}

TEST_F(ReceiptsTest, ReceiptWithPullRequestSendsTheNextEntry) {
  ASSERT_NO_FATAL_FAILURE(SendSetup());
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("m2", "bob", "second")));
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("m3", "bob", "third")));

  v1::Signal r = ReceiptFor("m1", 1, true, false);
  r.set_signal_request(kPull);
  ASSERT_TRUE(b1->Signal(r));
  ASSERT_TRUE(a1->NextEvent(NoticeFor("m1", kReceiver))) << a1->Pending();

  auto resp = b1->NextDeviceEvent(PullResponse());
  ASSERT_TRUE(resp) << b1->Pending();
  EXPECT_EQ(resp->signal_offset(), 3) << "head of bob's log";
  EXPECT_EQ(resp->limit(), 1u);
  auto next = b1->DrainDeviceInbox();
  ASSERT_EQ(next.size(), 1u) << b1->Pending();
  EXPECT_EQ(next[0].id(), "m2");
  EXPECT_EQ(next[0].signal_offset(), 2);
  EXPECT_EQ(next[0].signal_type(), kReceiver);
}

}  // namespace
}  // namespace courier::it
