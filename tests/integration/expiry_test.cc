// Expiry: Message.expiry seconds (0 = default_expiry_s). A RECEIVER
// copy no device of its receiver received before it expired is never
// delivered afterwards (a pull skips it; its offset stays taken), and the
// sender gets an ERROR Signal "expired: ..." with its own offset.
#include <gtest/gtest.h>

#include <chrono>

#include "support/feature_fixture.h"

namespace courier::it {
namespace {

class ExpiryTest : public FeatureTest {};

auto ExpiredFor(std::string id) {
  return [id = std::move(id)](const v1::Signal& s) { return s.id() == id && s.type() == kError; };
}

v1::Message Expiring(const std::string& id, const std::string& to, unsigned expiry_s) {
  v1::Message m = NewMessage(id, to, "payload of " + id);
  m.set_expiry(expiry_s);
  return m;
}

TEST_F(ExpiryTest, UnreceivedMessageExpiresSenderIsToldAndPullSkipsIt) {
  auto* a1 = Online("alice", "a1");
  ASSERT_TRUE(a1);
  const auto sent_at = std::chrono::steady_clock::now();
  auto ack = SendAndWaitAck(*a1, Expiring("e1", "bob", 1));  // bob is offline
  ASSERT_TRUE(ack) << a1->Pending();
  ASSERT_EQ(ack->signal_offset(), 1);

  auto expired = a1->NextEvent(ExpiredFor("e1"));
  ASSERT_TRUE(expired) << "no expired Signal; queued:\n" << a1->Pending();
  const auto waited = std::chrono::steady_clock::now() - sent_at;
  EXPECT_GE(waited, std::chrono::milliseconds(950)) << "expired before its 1 s expiry";
  EXPECT_EQ(expired->type(), kError) << Describe(*expired);
  EXPECT_EQ(expired->signal_type(), kReceiver) << Describe(*expired);
  EXPECT_EQ(expired->signal_offset(), 1) << "the sender's offset; " << Describe(*expired);
  EXPECT_EQ(expired->user_offset(), 1) << Describe(*expired);
  ASSERT_TRUE(expired->has_error());
  EXPECT_EQ(expired->error().rfind("expired: ", 0), 0u) << expired->error();
  EXPECT_EQ(expired->from().user(), "bob") << Describe(*expired);
  EXPECT_FALSE(expired->signal_ack_state().received());

  // A later message keeps the offsets going; e1's offset stays taken.
  auto ack2 = SendAndWaitAck(*a1, NewMessage("e2", "bob", "still here"));
  ASSERT_TRUE(ack2) << a1->Pending();

  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(b1);
  for (int from : {0, -1}) {
    SCOPED_TRACE("pull from " + std::to_string(from));
    auto r = Pull(*b1, from);
    ASSERT_TRUE(r.response);
    EXPECT_EQ(r.response->signal_offset(), 2) << "head counts the expired entry";
    EXPECT_EQ(r.response->limit(), 1u);
    ASSERT_EQ(r.entries.size(), 1u) << b1->Pending();
    EXPECT_EQ(r.entries[0].id(), "e2");
    EXPECT_EQ(r.entries[0].signal_offset(), 2);
    EXPECT_EQ(r.entries[0].user_offset(), 2);
  }
  // Pulling exactly from before it does not bring it back either.
  auto r = Pull(*b1, 0, 1);
  ASSERT_TRUE(r.response);
  for (const auto& m : r.entries) EXPECT_NE(m.id(), "e1") << Describe(m);
  for (const auto& m : b1->DrainInbox()) EXPECT_NE(m.id(), "e1") << "pushed after expiry";
}

TEST_F(ExpiryTest, MessageReceivedBeforeExpiryDoesNotExpire) {
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(a1 && b1);
  ASSERT_TRUE(SendAndWaitAck(*a1, Expiring("r1", "bob", 1)));
  auto copy = b1->NextInbox(WithId("r1"));
  ASSERT_TRUE(copy) << b1->Pending();
  ASSERT_TRUE(b1->Signal(ReceiptFor("r1", copy->signal_offset(), true, false)));
  ASSERT_TRUE(a1->NextEvent(NoticeFor("r1", kReceiver))) << a1->Pending();

  // Sentinel: a message sent later with the same expiry to an offline user.
  // Its expiry comes after r1's, so r1's notice would come first.
  ASSERT_TRUE(SendAndWaitAck(*a1, Expiring("x1", "carol", 1)));
  ASSERT_TRUE(a1->NextEvent(ExpiredFor("x1"))) << a1->Pending();
  for (const auto& e : a1->DrainEvents()) {
    EXPECT_FALSE(e.id() == "r1" && e.type() == kError) << "received message expired: " << Describe(e);
  }

  // bob's other device still pulls it.
  auto* b2 = Online("bob", "b2");
  ASSERT_TRUE(b2);
  auto r = Pull(*b2, 0);
  ASSERT_EQ(r.entries.size(), 1u) << b2->Pending();
  EXPECT_EQ(r.entries[0].id(), "r1");
  EXPECT_TRUE(r.entries[0].signal_ack_state().received());

  // getStats counts exactly one expiry.
  auto* admin = Admin();
  ASSERT_TRUE(admin);
  AdminClient::json data;
  ASSERT_TRUE(admin->Ok({{"command", "getStats"}}, &data));
  EXPECT_EQ(data["expired"], 1) << data.dump();
}

}  // namespace
}  // namespace courier::it

namespace courier::it {
namespace {

// default_expiry_s applies to expiry 0; max_expiry_s caps what is asked.
class ExpiryOptionsTest : public FeatureTest {
 protected:
  Opts ExtraOptions() const override { return {{"default_expiry_s", "1"}, {"max_expiry_s", "1"}}; }
};

TEST_F(ExpiryOptionsTest, DefaultAppliesToZeroAndMaxCapsTheAskedExpiry) {
  auto* a1 = Online("alice", "a1");
  ASSERT_TRUE(a1);
  ASSERT_TRUE(SendAndWaitAck(*a1, Expiring("zero", "bob", 0)));
  ASSERT_TRUE(SendAndWaitAck(*a1, Expiring("long", "bob", 3600)));
  for (const char* id : {"zero", "long"}) {
    auto s = a1->NextEvent(ExpiredFor(id));
    ASSERT_TRUE(s) << id << " did not expire; queued:\n" << a1->Pending();
    EXPECT_EQ(s->error().rfind("expired: ", 0), 0u) << s->error();
  }
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(b1);
  auto r = Pull(*b1, 0);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(r.response->signal_offset(), 2);
  EXPECT_TRUE(r.entries.empty()) << Describe(r.entries.front());
}

// default_expiry_s 0 and max_expiry_s 0: no expiry unless asked, no cap.
class NoDefaultExpiryTest : public FeatureTest {
 protected:
  Opts ExtraOptions() const override { return {{"default_expiry_s", "0"}, {"max_expiry_s", "0"}}; }
};

TEST_F(NoDefaultExpiryTest, ZeroNeverExpires) {
  auto* a1 = Online("alice", "a1");
  ASSERT_TRUE(a1);
  ASSERT_TRUE(SendAndWaitAck(*a1, Expiring("forever", "bob", 0)));
  ASSERT_TRUE(SendAndWaitAck(*a1, Expiring("short", "bob", 1)));
  // Sentinel: "short" expires; "forever" did not before it, nor with it.
  ASSERT_TRUE(a1->NextEvent(ExpiredFor("short"))) << a1->Pending();
  for (const auto& e : a1->DrainEvents()) { EXPECT_FALSE(e.type() == kError) << "unexpected: " << Describe(e); }
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(b1);
  auto r = Pull(*b1, 0);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(Ids(r.entries), (std::vector<std::string>{"forever"}));
  EXPECT_EQ(r.response->signal_offset(), 2);
}

}  // namespace
}  // namespace courier::it
