// Errors (protocol.md §3 "Errors"): every rejected publish gets exactly one
// Signal on the publishing device's own events topic: type ERROR with the id
// and "code: detail" (permanent), or type RESPONSE with signal_offset_state
// false (transient). A rejected message is not stored.
#include <gtest/gtest.h>

#include "support/fixture.h"

namespace courier::it {
namespace {

// Bytes that do not parse as any protobuf: field 1, length 5, two bytes.
const std::string kGarbage(
    "\x0a\x05"
    "ab",
    4);

class ErrorsTest : public CourierTest {
 protected:
  void Connect() {
    a1 = Online("alice", "a1");
    b1 = Online("bob", "b1");
    ASSERT_TRUE(a1 && b1);
  }
  // Checks nothing was stored: the next message is the first of both logs.
  void ExpectNothingStored() {
    auto ack = SendAndWaitAck(*a1, NewMessage("ok-after", "bob", "fine"));
    ASSERT_TRUE(ack) << a1->Pending();
    EXPECT_EQ(ack->signal_offset(), 1);
    auto copy = b1->NextInbox(WithId("ok-after"));
    ASSERT_TRUE(copy) << b1->Pending();
    EXPECT_EQ(copy->signal_offset(), 1);
    for (const auto& m : b1->DrainInbox()) ADD_FAILURE() << "stored anyway: " << Describe(m);
  }

  CourierDevice* a1 = nullptr;
  CourierDevice* b1 = nullptr;
};

TEST_F(ErrorsTest, BadPayloadOnSend) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  ASSERT_TRUE(a1->SendRaw(kGarbage));
  EXPECT_TRUE(GotPermanentError(*a1, "", "bad_payload"));
  ExpectNothingStored();
}

TEST_F(ErrorsTest, BadPayloadOnSignal) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  ASSERT_TRUE(a1->SignalRaw(kGarbage));
  EXPECT_TRUE(GotPermanentError(*a1, "", "bad_payload"));
}

TEST_F(ErrorsTest, MissingId) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  ASSERT_TRUE(a1->Send(NewMessage("", "bob", "no id")));
  EXPECT_TRUE(GotPermanentError(*a1, "", "missing_id"));
  ExpectNothingStored();
}

TEST_F(ErrorsTest, IdTooLongByDefaultOver128Bytes) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  const std::string too_long(129, 'x');
  ASSERT_TRUE(a1->Send(NewMessage(too_long, "bob", "p")));
  EXPECT_TRUE(GotPermanentError(*a1, too_long, "id_too_long"));
  ExpectNothingStored();
  // 128 bytes is fine.
  const std::string longest(128, 'y');
  auto ack = SendAndWaitAck(*a1, NewMessage(longest, "bob", "p"));
  ASSERT_TRUE(ack) << a1->Pending();
  EXPECT_EQ(ack->signal_offset(), 2);
}

TEST_F(ErrorsTest, MissingRecipient) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  v1::Message m = NewMessage("norcpt", "", "to nobody");
  m.clear_to();
  ASSERT_TRUE(a1->Send(m));
  EXPECT_TRUE(GotPermanentError(*a1, "norcpt", "missing_recipient"));
  ExpectNothingStored();
}

TEST_F(ErrorsTest, InvalidRecipient) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  const std::vector<std::string> bad = {"bo/b", "bo+b", "bob#", "#", std::string("bo\0b", 4)};
  for (size_t i = 0; i < bad.size(); ++i) {
    const std::string id = "inv" + std::to_string(i);
    ASSERT_TRUE(a1->Send(NewMessage(id, bad[i], "x")));
    EXPECT_TRUE(GotPermanentError(*a1, id, "invalid_recipient")) << "recipient #" << i;
  }
  ExpectNothingStored();
}

TEST_F(ErrorsTest, InvalidRecipientLongerThanMaxNameBytes) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  ASSERT_TRUE(a1->Send(NewMessage("longname", std::string(129, 'u'), "x")));
  EXPECT_TRUE(GotPermanentError(*a1, "longname", "invalid_recipient"));
  ExpectNothingStored();
}

TEST_F(ErrorsTest, UnknownGroup) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  v1::Message m = NewMessage("grp", "", "to a group");
  m.mutable_to()->clear_user();
  m.mutable_to()->set_group("friends");
  ASSERT_TRUE(a1->Send(m));
  EXPECT_TRUE(GotPermanentError(*a1, "grp", "unknown_group"));
  ExpectNothingStored();
}

TEST_F(ErrorsTest, IdConflict) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("same", "bob", "first")));
  ASSERT_TRUE(a1->Send(NewMessage("same", "bob", "second")));
  EXPECT_TRUE(GotPermanentError(*a1, "same", "id_conflict"));
}

TEST_F(ErrorsTest, UnknownOffsetReceipt) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("m1", "bob", "x")));
  v1::Signal r = Receipt(7, true, false);
  r.set_id("m7");
  ASSERT_TRUE(b1->Signal(r));
  EXPECT_TRUE(GotPermanentError(*b1, "m7", "unknown_offset"));
  // The sender heard nothing about it. Sentinel: a valid receipt.
  v1::Signal ok = Receipt(1, true, false);
  ok.set_id("m1");
  ASSERT_TRUE(b1->Signal(ok));
  ASSERT_TRUE(a1->NextEvent(NoticeFor("m1", kReceiver))) << a1->Pending();
  for (const auto& e : a1->DrainEvents()) EXPECT_NE(e.id(), "m7") << Describe(e);
}

TEST_F(ErrorsTest, UnknownOffsetBelowOne) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("m1", "bob", "x")));
  for (int offset : {0, -1, -5}) {
    v1::Signal r = Receipt(offset, true, false);
    r.set_id("z" + std::to_string(offset));
    ASSERT_TRUE(b1->Signal(r));
    EXPECT_TRUE(GotPermanentError(*b1, r.id(), "unknown_offset")) << "offset " << offset;
  }
}

TEST_F(ErrorsTest, BadSignalPullBelowMinusOne) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  v1::Signal p = PullRequest(-2, 0);
  p.set_id("pull-2");
  ASSERT_TRUE(b1->Signal(p));
  EXPECT_TRUE(GotPermanentError(*b1, "pull-2", "bad_signal"));
}

TEST_F(ErrorsTest, MissingRecipientOnActivity) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  v1::Signal s = Activity("", kTyping);
  s.set_id("act");
  ASSERT_TRUE(a1->Signal(s));
  EXPECT_TRUE(GotPermanentError(*a1, "act", "missing_recipient"));
}

TEST_F(ErrorsTest, BadSignal) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  v1::Signal s;  // no receipt state, no pull, no status
  s.set_id("what");
  s.set_timestamp(12345);
  ASSERT_TRUE(a1->Signal(s));
  EXPECT_TRUE(GotPermanentError(*a1, "what", "bad_signal"));
}

TEST_F(ErrorsTest, InvalidStatus) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  v1::Signal s = Activity("bob", 9);
  s.set_id("st9");
  ASSERT_TRUE(a1->Signal(s));
  EXPECT_TRUE(GotPermanentError(*a1, "st9", "invalid_status"));
  // Not forwarded. Sentinel: a valid activity.
  ASSERT_TRUE(a1->Signal(Activity("bob", kTyping)));
  ASSERT_TRUE(b1->NextEvent([](const v1::Signal& e) { return e.status() == kTyping; })) << b1->Pending();
  for (const auto& e : b1->DrainEvents()) EXPECT_NE(e.status(), 9) << Describe(e);
}

TEST_F(ErrorsTest, ErrorsGoOnlyToThePublishingDevice) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  auto* a2 = Online("alice", "a2");
  ASSERT_TRUE(a2);
  ASSERT_TRUE(a1->Send(NewMessage("", "bob", "no id")));
  EXPECT_TRUE(GotPermanentError(*a1, "", "missing_id"));
  // Sentinel on a2's side: an ack it also receives, published afterwards.
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("later", "bob", "x")));
  ASSERT_TRUE(a2->NextEvent(SenderAckFor("later"))) << a2->Pending();
  for (const auto& r : a2->client().DrainAll()) {
    auto s = ParseSignal(r.payload);
    EXPECT_FALSE(s && s->has_error()) << "a2 saw a1's error: " << Describe(r);
  }
}

// Limits configured through plugin options.
class LimitsTest : public ErrorsTest {
 protected:
  BrokerOptions Options() const override {
    BrokerOptions o;
    o.plugin_opts = {{"max_id_bytes", "8"}, {"max_payload_bytes", "16"}};
    return o;
  }
};

TEST_F(LimitsTest, IdTooLongHonoursMaxIdBytes) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  ASSERT_TRUE(a1->Send(NewMessage("123456789", "bob", "p")));
  EXPECT_TRUE(GotPermanentError(*a1, "123456789", "id_too_long"));
  auto ack = SendAndWaitAck(*a1, NewMessage("12345678", "bob", "p"));
  ASSERT_TRUE(ack) << a1->Pending();
  EXPECT_EQ(ack->signal_offset(), 1);
}

TEST_F(LimitsTest, PayloadTooLargeCountsEncryptedToo) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  v1::Message m = NewMessage("enc", "bob", std::string(10, 'p'));
  m.set_encrypted(std::string(8, 'e'));  // valid base64; 10 + 8 > 16
  ASSERT_TRUE(a1->Send(m));
  EXPECT_TRUE(GotPermanentError(*a1, "enc", "payload_too_large"));
  m.set_id("enc-ok");
  m.set_encrypted(std::string(4, 'e'));  // 10 + 4 <= 16
  auto ack = SendAndWaitAck(*a1, m);
  ASSERT_TRUE(ack) << a1->Pending();
  EXPECT_EQ(ack->signal_offset(), 1);
}

TEST_F(LimitsTest, PayloadTooLarge) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  ASSERT_TRUE(a1->Send(NewMessage("big", "bob", std::string(17, 'p'))));
  EXPECT_TRUE(GotPermanentError(*a1, "big", "payload_too_large"));
  auto ack = SendAndWaitAck(*a1, NewMessage("fits", "bob", std::string(16, 'p')));
  ASSERT_TRUE(ack) << a1->Pending();
  EXPECT_EQ(ack->signal_offset(), 1);
}

// A store that cannot grow: appends fail with the transient store_full.
// Label lmdb (LMDB only, CMakeLists.txt): the store that cannot grow is a 1 MiB LMDB map.
class StoreFullTest : public ErrorsTest {
 protected:
  BrokerOptions Options() const override {
    BrokerOptions o;
    o.plugin_opts = {{"map_size_mb", "1"}, {"max_map_size_mb", "1"}, {"max_payload_bytes", "1000000"}};
    return o;
  }
};

TEST_F(StoreFullTest, FullStoreIsATransientError) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  // Each message is stored twice (bob's and alice's copy): a few 200 kB
  // messages fill a 1 MB map.
  const std::string payload(200 * 1000, 'f');
  std::string failed_id;
  for (int i = 1; i <= 10 && failed_id.empty(); ++i) {
    const std::string id = "f" + std::to_string(i);
    ASSERT_TRUE(a1->Send(NewMessage(id, "bob", payload)));
    auto reply = a1->client().WaitFor([&](const Received& r) {
      auto s = ParseSignal(r.payload);
      if (!s || s->id() != id) return false;
      return (r.topic == a1->events() && s->signal_type() == kSender) ||
             (r.topic == a1->device_events() && (s->has_error() || s->type() == kError));
    });
    ASSERT_TRUE(reply) << "no ack and no error for " << id << "\n" << a1->Pending();
    if (reply->topic == a1->device_events()) {
      auto s = ParseSignal(reply->payload);
      EXPECT_EQ(s->type(), kResponse) << Describe(*reply);
      EXPECT_FALSE(s->signal_offset_state()) << Describe(*reply);
      EXPECT_EQ(s->error().rfind("store_full:", 0), 0u) << Describe(*reply);
      failed_id = id;
    }
  }
  EXPECT_FALSE(failed_id.empty()) << "the store never filled up";
}

}  // namespace
}  // namespace courier::it
