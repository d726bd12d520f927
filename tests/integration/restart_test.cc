// Durability (protocol.md §4): after kill -9 and a restart on the same data
// directory, acknowledged messages are there, a re-send returns the original
// ack, offsets continue without gap or reuse, receipts and cursors persist.
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/fixture.h"

namespace courier::it {
namespace {

class RestartTest : public CourierTest {};

TEST_F(RestartTest, DuplicateAfterKill9ReturnsOriginalAckAndOffsetsContinue) {
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(a1 && b1);
  v1::Message m1 = NewMessage("r1", "bob", "one");
  v1::Message m2 = NewMessage("r2", "bob", "two");
  auto ack1 = SendAndWaitAck(*a1, m1);
  auto ack2 = SendAndWaitAck(*a1, m2);
  ASSERT_TRUE(ack1 && ack2) << a1->Pending();
  ASSERT_EQ(ack2->signal_offset(), 2);
  ASSERT_EQ(b1->client().WaitForCount(b1->inbox(), 2).size(), 2u) << b1->Pending();

  ASSERT_TRUE(CrashAndRestart());

  auto again = SendAndWaitAck(*a1, m2);
  ASSERT_TRUE(again) << a1->Pending();
  EXPECT_EQ(again->signal_offset(), ack2->signal_offset());
  EXPECT_EQ(again->user_offset(), ack2->user_offset());
  EXPECT_TRUE(again->signal_offset_state());

  auto ack3 = SendAndWaitAck(*a1, NewMessage("r3", "bob", "three"));
  ASSERT_TRUE(ack3) << a1->Pending();
  EXPECT_EQ(ack3->signal_offset(), 3);
  EXPECT_EQ(ack3->user_offset(), 3);
  auto c3 = b1->NextInbox(WithId("r3"));
  ASSERT_TRUE(c3) << b1->Pending();
  EXPECT_EQ(c3->signal_offset(), 3);
  EXPECT_EQ(c3->user_offset(), 3);
  for (const auto& c : b1->DrainInbox()) EXPECT_NE(c.id(), "r2") << "re-delivered " << Describe(c);

  // Bob's log holds exactly r1, r2, r3.
  ASSERT_TRUE(b1->Signal(PullRequest(0, 0)));
  auto resp = b1->NextDeviceEvent(PullResponse());
  ASSERT_TRUE(resp) << b1->Pending();
  EXPECT_EQ(resp->signal_offset(), 3);
  auto entries = b1->DrainDeviceInbox();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].id(), "r1");
  EXPECT_EQ(entries[1].id(), "r2");
  EXPECT_EQ(entries[2].id(), "r3");
}

TEST_F(RestartTest, EveryAcknowledgedMessageSurvivesKill9) {
  auto* a1 = Online("alice", "a1");
  ASSERT_TRUE(a1);
  constexpr int kCount = 30;
  for (int i = 1; i <= kCount; ++i) {
    ASSERT_TRUE(a1->Send(NewMessage("s" + std::to_string(i), "bob", std::to_string(i))));
  }
  for (int i = 1; i <= kCount; ++i) {
    ASSERT_TRUE(a1->NextEvent(SenderAckFor("s" + std::to_string(i)))) << a1->Pending();
  }
  // Kill right after the last ack, no graceful shutdown.
  ASSERT_TRUE(CrashAndRestart());

  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(b1);
  ASSERT_TRUE(b1->Signal(PullRequest(0, 0)));
  auto resp = b1->NextDeviceEvent(PullResponse());
  ASSERT_TRUE(resp) << b1->Pending();
  EXPECT_EQ(resp->signal_offset(), kCount);
  auto entries = b1->DrainDeviceInbox();
  ASSERT_EQ(entries.size(), size_t{kCount});
  for (int i = 1; i <= kCount; ++i) {
    EXPECT_EQ(entries[i - 1].id(), "s" + std::to_string(i));
    EXPECT_EQ(entries[i - 1].signal_offset(), i);
  }
  // Alice's own log continues after its head too.
  auto next = SendAndWaitAck(*a1, NewMessage("after", "bob", "x"));
  ASSERT_TRUE(next) << a1->Pending();
  EXPECT_EQ(next->signal_offset(), kCount + 1);
  EXPECT_EQ(next->user_offset(), kCount + 1);
}

TEST_F(RestartTest, ReceiptsAndCursorsSurviveKill9) {
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(a1 && b1);
  for (int i = 1; i <= 3; ++i) { ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("c" + std::to_string(i), "bob", "x"))); }
  v1::Signal read = Receipt(2, true, true);
  read.set_id("c2");
  ASSERT_TRUE(b1->Signal(read));
  ASSERT_TRUE(a1->NextEvent(NoticeFor("c2", kReceiver))) << a1->Pending();

  ASSERT_TRUE(CrashAndRestart());

  // b1's cursor is still 2.
  ASSERT_TRUE(b1->Signal(PullRequest(-1, 0)));
  auto resp = b1->NextDeviceEvent(PullResponse());
  ASSERT_TRUE(resp) << b1->Pending();
  auto entries = b1->DrainDeviceInbox();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].id(), "c3");

  // The read state is on alice's copy, and repeating the receipt is a no-op.
  ASSERT_TRUE(a1->Signal(PullRequest(1, 1)));
  ASSERT_TRUE(a1->NextDeviceEvent(PullResponse())) << a1->Pending();
  auto mine = a1->DrainDeviceInbox();
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].id(), "c2");
  EXPECT_TRUE(mine[0].signal_ack_state().read());

  ASSERT_TRUE(b1->Signal(read));
  v1::Signal sentinel = Receipt(3, true, false);
  sentinel.set_id("c3");
  ASSERT_TRUE(b1->Signal(sentinel));
  ASSERT_TRUE(a1->NextEvent(NoticeFor("c3", kReceiver))) << a1->Pending();
  for (const auto& e : a1->DrainEvents()) EXPECT_NE(e.id(), "c2") << Describe(e);
}

TEST_F(RestartTest, RetryAfterKillMidBurstLeavesExactlyOneEntryEach) {
  auto* a1 = Online("alice", "a1");
  ASSERT_TRUE(a1);
  constexpr int kCount = 40;
  std::vector<v1::Message> msgs;
  for (int i = 1; i <= kCount; ++i) { msgs.push_back(NewMessage("b" + std::to_string(i), "bob", std::to_string(i))); }
  // Fire and kill at once: some may be committed, some not; which ones
  // depends on timing, the outcome after the retry must not.
  for (const auto& m : msgs) ASSERT_TRUE(a1->client().Publish(SendTopic("alice"), Bytes(m), 0));
  ASSERT_TRUE(CrashAndRestart());

  for (const auto& m : msgs) ASSERT_TRUE(a1->Send(m));
  std::set<int> sender_offsets;
  for (const auto& m : msgs) {
    auto ack = a1->NextEvent(SenderAckFor(m.id()));
    ASSERT_TRUE(ack) << m.id() << "\n" << a1->Pending();
    sender_offsets.insert(ack->signal_offset());
  }
  EXPECT_EQ(sender_offsets.size(), size_t{kCount}) << "two ids share an offset";
  EXPECT_EQ(*sender_offsets.begin(), 1);
  EXPECT_EQ(*sender_offsets.rbegin(), kCount);

  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(b1);
  ASSERT_TRUE(b1->Signal(PullRequest(0, 0)));
  auto resp = b1->NextDeviceEvent(PullResponse());
  ASSERT_TRUE(resp) << b1->Pending();
  EXPECT_EQ(resp->signal_offset(), kCount) << "bob's head";
  auto entries = b1->DrainDeviceInbox();
  ASSERT_EQ(entries.size(), size_t{kCount});
  std::set<std::string> ids;
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(entries[i].signal_offset(), i + 1);
    ids.insert(entries[i].id());
  }
  EXPECT_EQ(ids.size(), size_t{kCount}) << "an id was stored twice";
}

TEST_F(RestartTest, GracefulStopAndRestartKeepEverything) {
  auto* a1 = Online("alice", "a1");
  ASSERT_TRUE(a1);
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("g1", "bob", "x")));
  a1->Disconnect();
  broker().Stop();
  ASSERT_TRUE(broker().Restart());
  ASSERT_TRUE(a1->Reconnect());
  auto ack = SendAndWaitAck(*a1, NewMessage("g2", "bob", "y"));
  ASSERT_TRUE(ack) << a1->Pending();
  EXPECT_EQ(ack->signal_offset(), 2);
  EXPECT_EQ(ack->user_offset(), 2);
  auto again = SendAndWaitAck(*a1, NewMessage("g1", "bob", "x"));
  ASSERT_TRUE(again) << a1->Pending();
  EXPECT_EQ(again->signal_offset(), 1);
}

}  // namespace
}  // namespace courier::it
