// Activity (protocol.md §3 "Activity"): typing & co. are forwarded to the
// receiver's events topic as they are, never stored, with no offsets.
#include <gtest/gtest.h>

#include "support/fixture.h"

namespace courier::it {
namespace {

class ActivityTest : public CourierTest {};

TEST_F(ActivityTest, TypingIsForwardedWithAuthenticatedSender) {
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  auto* b2 = Online("bob", "b2");
  ASSERT_TRUE(a1 && b1 && b2);

  v1::Signal typing = Activity("bob", kTyping);
  typing.mutable_from()->set_user("mallory");  // must be overwritten
  ASSERT_TRUE(a1->Signal(typing));
  for (auto* d : {b1, b2}) {
    auto s = d->NextEvent([](const v1::Signal& s) { return s.status() == kTyping; });
    ASSERT_TRUE(s) << d->Pending();
    EXPECT_EQ(s->type(), kRequest) << Describe(*s);
    EXPECT_EQ(s->from().user(), "alice");
    EXPECT_EQ(s->from().device(), "a1");
    EXPECT_EQ(s->signal_offset(), 0);
    EXPECT_EQ(s->user_offset(), 0);
    EXPECT_FALSE(s->has_error());
  }
}

TEST_F(ActivityTest, TimestampIsTheClientsOrTheServers) {
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(a1 && b1);
  v1::Signal with = Activity("bob", 2);
  with.set_timestamp(42);
  ASSERT_TRUE(a1->Signal(with));
  auto s = b1->NextEvent([](const v1::Signal& s) { return s.status() == 2; });
  ASSERT_TRUE(s) << b1->Pending();
  EXPECT_EQ(s->timestamp(), 42);
  ASSERT_TRUE(a1->Signal(Activity("bob", 5)));
  s = b1->NextEvent([](const v1::Signal& s) { return s.status() == 5; });
  ASSERT_TRUE(s) << b1->Pending();
  EXPECT_GT(s->timestamp(), 1600000000000) << "server time when the client sent 0";
}

TEST_F(ActivityTest, EveryStatusIsForwardedInOrder) {
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(a1 && b1);
  for (int status = 1; status <= 8; ++status) ASSERT_TRUE(a1->Signal(Activity("bob", status)));
  auto got = b1->client().WaitForCount(b1->events(), 8);
  ASSERT_EQ(got.size(), 8u) << b1->Pending();
  for (int status = 1; status <= 8; ++status) {
    auto s = ParseSignal(got[status - 1].payload);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->status(), status) << Describe(*s);
    EXPECT_EQ(s->from().user(), "alice");
  }
}

TEST_F(ActivityTest, ActivityIsNotStored) {
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(a1 && b1);
  ASSERT_TRUE(a1->Signal(Activity("bob", kTyping)));
  ASSERT_TRUE(b1->NextEvent([](const v1::Signal& s) { return s.status() == kTyping; })) << b1->Pending();

  // Neither log has an entry.
  for (auto* d : {a1, b1}) {
    ASSERT_TRUE(d->Signal(PullRequest(0, 0)));
    auto resp = d->NextDeviceEvent(PullResponse());
    ASSERT_TRUE(resp) << d->Pending();
    EXPECT_EQ(resp->signal_offset(), 0) << "head of " << d->user() << "'s log";
    EXPECT_EQ(resp->limit(), 0u);
    EXPECT_TRUE(d->DrainDeviceInbox().empty());
  }
  // The first message is offset 1 on both sides.
  auto ack = SendAndWaitAck(*a1, NewMessage("first", "bob", "hi"));
  ASSERT_TRUE(ack) << a1->Pending();
  EXPECT_EQ(ack->signal_offset(), 1);
  EXPECT_EQ(ack->user_offset(), 1);
  auto copy = b1->NextInbox(WithId("first"));
  ASSERT_TRUE(copy) << b1->Pending();
  EXPECT_EQ(copy->signal_offset(), 1);
}

TEST_F(ActivityTest, OfflineReceiverMissesActivity) {
  auto* a1 = Online("alice", "a1");
  ASSERT_TRUE(a1);
  ASSERT_TRUE(a1->Signal(Activity("bob", kTyping)));
  // Sentinel: a real message alice sends after the activity.
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("msg", "bob", "hi")));

  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(b1);
  ASSERT_TRUE(b1->Signal(PullRequest(0, 0)));
  auto resp = b1->NextDeviceEvent(PullResponse());
  ASSERT_TRUE(resp) << b1->Pending();
  auto entries = b1->DrainDeviceInbox();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].id(), "msg");
  for (const auto& e : b1->DrainEvents()) {
    EXPECT_EQ(e.status(), 0) << "activity replayed to a late device: " << Describe(e);
  }
}

}  // namespace
}  // namespace courier::it
