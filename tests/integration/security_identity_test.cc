// Identity binding and receipts (security_fixture.h): the server, not the
// client, says who sent a message, and a receipt only marks its sender's own log.
#include <string>
#include <vector>

#include "security_fixture.h"

namespace courier::it {
namespace {

// ---- identity binding ---------------------------------------------------------

TEST_F(SecurityTest, SpoofedFromIsDeliveredAsTheRealSender) {
  TestClient* a1 = Device("alice", "a1");
  TestClient* b1 = Device("bob", "b1");
  TestClient* c1 = Device("carol", "c1");
  ASSERT_TRUE(a1 && b1 && c1);
  const int64_t before = NowMs();

  v1::Message m = NewMessage("spoof", "bob", "who am I");
  m.mutable_from()->set_user("carol");
  m.mutable_from()->set_device("c1");
  // Server-owned fields are overwritten too.
  m.set_signal_offset(77);
  m.set_user_offset(88);
  m.set_signal_type(kSender);
  m.set_server_timestamp(5);
  m.set_signal_offset_state(false);
  m.mutable_signal_ack_state()->set_read(true);
  m.mutable_signal_ack_state()->set_received(true);
  auto ack = SendAndAck(*a1, m);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->from().user(), "alice");
  EXPECT_EQ(ack->from().device(), "a1");
  EXPECT_EQ(ack->signal_offset(), 1);

  auto got = NextMessage(*b1, "msg/bob/inbox", "spoof");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->from().user(), "alice") << Describe(*got);
  EXPECT_EQ(got->from().device(), "a1") << Describe(*got);
  EXPECT_EQ(got->signal_offset(), 1);
  EXPECT_EQ(got->user_offset(), 1);
  EXPECT_EQ(got->signal_type(), kReceiver);
  EXPECT_TRUE(got->signal_offset_state());
  EXPECT_TRUE(got->signal_ack_state().send());
  EXPECT_FALSE(got->signal_ack_state().received()) << Describe(*got);
  EXPECT_FALSE(got->signal_ack_state().read()) << Describe(*got);
  EXPECT_GE(got->server_timestamp(), before);

  // from = the receiver itself: still alice.
  v1::Message self = NewMessage("spoof-self", "bob", "x");
  self.mutable_from()->set_user("bob");
  self.mutable_from()->set_device("b1");
  ASSERT_TRUE(SendAndAck(*a1, self));
  got = NextMessage(*b1, "msg/bob/inbox", "spoof-self");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->from().user(), "alice");
  EXPECT_EQ(got->from().device(), "a1");

  // Activity with a spoofed from: forwarded as alice/a1.
  v1::Signal typing = Activity("bob", kTyping);
  typing.mutable_from()->set_user("carol");
  typing.mutable_from()->set_device("c1");
  int reason = -1;
  ASSERT_TRUE(a1->Publish("msg/alice/signal", Bytes(typing), 1, &reason));
  auto act = NextSignal(*b1, "msg/bob/events", [](const v1::Signal& s) { return s.status() == kTyping; });
  ASSERT_TRUE(act);
  EXPECT_EQ(act->from().user(), "alice") << Describe(*act);
  EXPECT_EQ(act->from().device(), "a1") << Describe(*act);

  // carol, whose name was used, got nothing.
  ASSERT_TRUE(SendAndAck(*a1, NewMessage("to-carol", "carol", "sentinel")));
  ASSERT_TRUE(NextMessage(*c1, "msg/carol/inbox", "to-carol"));
  for (const auto& r : c1->DrainAll()) {
    EXPECT_NE(IdOf(r).rfind("spoof", 0), 0u) << Describe(r);
    auto s = AsSignal(r);
    EXPECT_FALSE(r.topic.ends_with("/events") && s && s->status() != 0) << Describe(r);
  }
}

// ---- receipts -------------------------------------------------------------------

TEST_F(SecurityTest, NobodyCanReceiptAnotherUsersEntries) {
  TestClient* a1 = Device("alice", "a1");
  TestClient* b1 = Device("bob", "b1");
  TestClient* c1 = Device("carol", "c1");
  ASSERT_TRUE(a1 && b1 && c1);
  // alice -> carol: alice's offset 1, carol's offset 1.
  ASSERT_TRUE(SendAndAck(*a1, NewMessage("for-carol", "carol", "x")));
  // carol -> bob: carol's offset 2, bob's offset 1.
  ASSERT_TRUE(SendAndAck(*c1, NewMessage("for-bob", "bob", "y")));
  ASSERT_TRUE(NextMessage(*b1, "msg/bob/inbox", "for-bob"));

  // bob on alice's and carol's signal topics: refused by the ACL.
  for (const std::string user : {"alice", "carol"}) {
    v1::Signal r = Receipt(1, true, true);
    r.set_id("forged-" + user);
    int reason = -1;
    ASSERT_TRUE(b1->Publish(SignalTopic(user), Bytes(r), 1, &reason));
    EXPECT_EQ(reason, kRcNotAuthorized) << "bob published to " << SignalTopic(user);
  }
  // bob on his own signal topic, offset 1: bob's own entry ("for-bob"),
  // whatever id or names the Signal carries.
  v1::Signal own = Receipt(1, true, true);
  own.set_id("for-carol");
  own.mutable_to()->set_user("alice");
  own.mutable_from()->set_user("alice");
  int reason = -1;
  ASSERT_TRUE(b1->Publish(SignalTopic("bob"), Bytes(own), 1, &reason));
  auto notice = NextSignal(*c1, "msg/carol/events",
                           [](const v1::Signal& s) { return s.type() == kResponse && s.signal_type() == kReceiver; });
  ASSERT_TRUE(notice) << "carol got no RECEIVER notice for bob's receipt";
  EXPECT_EQ(notice->id(), "for-bob") << Describe(*notice);
  EXPECT_EQ(notice->signal_offset(), 2) << Describe(*notice);
  EXPECT_EQ(notice->from().user(), "bob");
  EXPECT_TRUE(notice->signal_ack_state().read());
  // An offset bob's log does not have: unknown_offset, nothing marked.
  v1::Signal beyond = Receipt(2, true, true);
  beyond.set_id("beyond");
  ASSERT_TRUE(b1->Publish(SignalTopic("bob"), Bytes(beyond), 1, &reason));
  auto err = NextSignal(*b1, "msg/bob/devices/b1/events", [](const v1::Signal& s) { return s.has_error(); });
  ASSERT_TRUE(err);
  EXPECT_EQ(err->id(), "beyond");
  EXPECT_EQ(err->type(), kError);
  EXPECT_EQ(err->error().rfind("unknown_offset:", 0), 0u) << Describe(*err);

  // Sentinel for alice's events, then: alice heard nothing, and her entry
  // and carol's copy of it are unmarked.
  ASSERT_TRUE(SendAndAck(*a1, NewMessage("sentinel", "carol", "z")));
  for (const auto& r : a1->DrainAll()) {
    auto s = AsSignal(r);
    EXPECT_FALSE(r.topic.ends_with("/events") && s && s->signal_type() == kReceiver)
        << "alice got a receipt notice: " << Describe(r);
  }
  auto alice_log = PullAll(*a1);
  ASSERT_EQ(alice_log.size(), 2u);
  EXPECT_EQ(alice_log[0].id(), "for-carol");
  EXPECT_FALSE(alice_log[0].signal_ack_state().received() || alice_log[0].signal_ack_state().read())
      << Describe(alice_log[0]);
  auto carol_log = PullAll(*c1);
  ASSERT_EQ(carol_log.size(), 3u);
  EXPECT_EQ(carol_log[0].id(), "for-carol");
  EXPECT_FALSE(carol_log[0].signal_ack_state().received()) << Describe(carol_log[0]);
  EXPECT_EQ(carol_log[1].id(), "for-bob");
  EXPECT_TRUE(carol_log[1].signal_ack_state().read()) << Describe(carol_log[1]);
}

}  // namespace
}  // namespace courier::it
