// Isolation (protocol.md §2, §4): a user cannot read another user's topics
// nor make the plugin speak as another user.
#include <gtest/gtest.h>

#include "support/fixture.h"

namespace courier::it {
namespace {

class AclTest : public CourierTest {
 protected:
  // These tests assert that '#' is refused: other_topics defer on a broker
  // without an acl_file (the default, auto, would allow it here).
  BrokerOptions Options() const override {
    BrokerOptions o;
    o.plugin_opts = {{"other_topics", "defer"}};
    return o;
  }
};

TEST_F(AclTest, CannotReadAnotherUsersInbox) {
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  auto* eve = Online("eve", "e1");
  ASSERT_TRUE(a1 && b1 && eve);
  // Refused in the SUBACK, or at least never delivered.
  int granted = -1;
  ASSERT_TRUE(eve->client().SubscribeGranted(InboxTopic("bob"), 1, &granted));
  ASSERT_TRUE(eve->client().SubscribeGranted(EventsTopic("alice"), 1, &granted));
  ASSERT_TRUE(eve->client().SubscribeGranted("msg/#", 1, &granted));

  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("secret", "bob", "for bob only")));
  ASSERT_TRUE(b1->NextInbox(WithId("secret"))) << b1->Pending();
  // Sentinel for eve: a message to eve, sent afterwards.
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("foreve", "eve", "hello eve")));
  ASSERT_TRUE(eve->NextInbox(WithId("foreve"))) << eve->Pending();
  for (const auto& r : eve->client().DrainAll()) {
    EXPECT_EQ(r.topic.rfind("msg/eve/", 0), 0u) << "eve read " << Describe(r);
  }
}

TEST_F(AclTest, CannotSendOrSignalAsAnotherUser) {
  auto* a1 = Online("alice", "a1");
  auto* c1 = Online("carol", "c1");
  auto* eve = Online("eve", "e1");
  ASSERT_TRUE(a1 && c1 && eve);
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("real", "carol", "x")));
  ASSERT_TRUE(c1->NextInbox(WithId("real"))) << c1->Pending();

  // eve publishes on alice's send and carol's signal topics.
  ASSERT_TRUE(eve->client().Publish(SendTopic("alice"), Bytes(NewMessage("fake", "carol", "!"))));
  v1::Signal fake_read = Receipt(1, true, true);
  fake_read.set_id("real");
  ASSERT_TRUE(eve->client().Publish(SignalTopic("carol"), Bytes(fake_read)));

  // Sentinel: alice's next real message and carol's own receipt.
  auto ack = SendAndWaitAck(*a1, NewMessage("real2", "carol", "y"));
  ASSERT_TRUE(ack) << a1->Pending();
  EXPECT_EQ(ack->signal_offset(), 2) << "a forged send took an offset in alice's log";
  auto copy = c1->NextInbox(WithId("real2"));
  ASSERT_TRUE(copy) << c1->Pending();
  EXPECT_EQ(copy->signal_offset(), 2);
  for (const auto& m : c1->DrainInbox()) EXPECT_NE(m.id(), "fake") << Describe(m);
  v1::Signal own = Receipt(2, true, false);
  own.set_id("real2");
  ASSERT_TRUE(c1->Signal(own));
  ASSERT_TRUE(a1->NextEvent(NoticeFor("real2", kReceiver))) << a1->Pending();
  for (const auto& e : a1->DrainEvents()) {
    EXPECT_FALSE(e.id() == "real" && e.signal_type() == kReceiver) << "forged receipt reached alice: " << Describe(e);
  }
}

TEST_F(AclTest, WildcardsAcrossUsersAreRefusedOwnAreFine) {
  auto* a1 = Online("alice", "a1");
  ASSERT_TRUE(a1);
  TestClient& c = a1->client();
  for (const char* filter :
       {"msg/#", "msg/+/inbox", "msg/bob/#", "#", "msg/alice/devices/a2/inbox", "msg/alice/send", "msg/alice/signal"}) {
    int granted = -1;
    ASSERT_TRUE(c.SubscribeGranted(filter, 1, &granted));
    EXPECT_EQ(granted, 0x80) << filter << " should be refused";
  }
  ASSERT_TRUE(c.Subscribe("msg/alice/#"));
  // A note to self from alice's other device: a1 gets that DEVICE copy (its
  // own sends are not echoed back to it).
  auto* a2 = Online("alice", "a2");
  ASSERT_TRUE(a2);
  ASSERT_TRUE(SendAndWaitAck(*a2, NewMessage("own", "alice", "x")));
  auto got = c.WaitFor([](const Received& r) { return r.topic == "msg/alice/inbox"; });
  ASSERT_TRUE(got) << a1->Pending();
}

TEST_F(AclTest, ClientWithoutUsernameGetsNoCourierAccess) {
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(b1);
  TestClient anon;
  ASSERT_TRUE(anon.Connect(broker().port(), "", "anon1"));
  int granted = -1;
  ASSERT_TRUE(anon.SubscribeGranted(InboxTopic("bob"), 1, &granted));
  EXPECT_EQ(granted, 0x80);
  ASSERT_TRUE(anon.SubscribeGranted(DeviceEventsTopic("", "anon1"), 1, &granted));
  EXPECT_EQ(granted, 0x80);
  // A send without a user creates nothing for bob. Sentinel: a real message.
  ASSERT_TRUE(anon.Publish("msg//send", Bytes(NewMessage("anon", "bob", "?"))));
  auto* a1 = Online("alice", "a1");
  ASSERT_TRUE(a1);
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("real", "bob", "x")));
  auto copy = b1->NextInbox(WithId("real"));
  ASSERT_TRUE(copy) << b1->Pending();
  EXPECT_EQ(copy->signal_offset(), 1);
  anon.Disconnect();
}

}  // namespace
}  // namespace courier::it
