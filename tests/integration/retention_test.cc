// Retention (plugin_opt_retention_s): entries older than
// retention_s at or below the cursor of every device of their user (devices
// that have a cursor; a user with none keeps everything) are removed, with
// the dedup record of removed sender copies. Heads never move back; a re-sent
// id whose sender copy was removed is a new message.
#include <gtest/gtest.h>

#include "support/feature_fixture.h"

namespace courier::it {
namespace {

class RetentionTest : public FeatureTest {
 protected:
  Opts ExtraOptions() const override { return {{"retention_s", "1"}}; }

  // Sends a receipt from `d` and waits until it was applied: a PULL from the
  // same connection is answered after it.
  void ReceiptApplied(CourierDevice& d, int offset) {
    ASSERT_TRUE(d.Signal(ReceiptFor("r", offset, true, false)));
    auto r = Pull(d, 0, 1);
    ASSERT_TRUE(r.response);
  }

  // Waits (polling with PULLs) until the entries of `d`'s log after 0 have
  // exactly the offsets `want`.
  ::testing::AssertionResult EventuallyOffsets(CourierDevice& d, const std::vector<int>& want) {
    std::vector<int> last;
    bool ok = Eventually([&] {
      auto r = Pull(d, 0);
      last = Offsets(r.entries);
      return last == want;
    });
    if (ok) return ::testing::AssertionSuccess();
    auto f = ::testing::AssertionFailure() << d.user() << "'s log never became {";
    for (int o : want) f << o << " ";
    f << "}; last pull: {";
    for (int o : last) f << o << " ";
    return f << "}";
  }
};

TEST_F(RetentionTest, TrimsOnlyWhatEveryDeviceHas) {
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  auto* b2 = Online("bob", "b2");
  ASSERT_TRUE(a1 && b1 && b2);
  for (int i = 1; i <= 3; ++i) { ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("m" + std::to_string(i), "bob", "x"))); }
  // b1 has everything (cursor 3), b2 only the first entry (cursor 1).
  for (int off = 1; off <= 3; ++off) ASSERT_NO_FATAL_FAILURE(ReceiptApplied(*b1, off));
  ASSERT_NO_FATAL_FAILURE(ReceiptApplied(*b2, 1));

  // Entry 1 goes once it is older than a second.
  EXPECT_TRUE(EventuallyOffsets(*b1, {2, 3}));

  // Sentinel: carol's entry, written after bob's, trimmed by a later pass
  // that also visited bob's log when entries 2 and 3 were old enough.
  auto* c1 = Online("carol", "c1");
  ASSERT_TRUE(c1);
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("s1", "carol", "x")));
  ASSERT_NO_FATAL_FAILURE(ReceiptApplied(*c1, 1));
  EXPECT_TRUE(EventuallyOffsets(*c1, {}));

  // Entries above b2's cursor stay; both devices can still pull them.
  for (auto* d : {b1, b2}) {
    auto r = Pull(*d, 0);
    ASSERT_TRUE(r.response);
    EXPECT_EQ(r.response->signal_offset(), 3) << "head does not move back";
    EXPECT_EQ(Ids(r.entries), (std::vector<std::string>{"m2", "m3"})) << d->device();
  }
  // alice's devices never sent a receipt: her log keeps everything.
  auto r = Pull(*a1, 0);
  EXPECT_EQ(Offsets(r.entries), (std::vector<int>{1, 2, 3, 4}));
  // carol's head stays, the next entry continues after it.
  auto ack = SendAndWaitAck(*a1, NewMessage("s2", "carol", "x"));
  ASSERT_TRUE(ack) << a1->Pending();
  EXPECT_EQ(ack->user_offset(), 2);
  auto copy = c1->NextInbox(WithId("s2"));
  ASSERT_TRUE(copy) << c1->Pending();
  EXPECT_EQ(copy->signal_offset(), 2);
}

TEST_F(RetentionTest, ReSentIdAfterItsSenderCopyWasTrimmedIsNew) {
  auto* a1 = Online("alice", "a1");
  auto* a2 = Online("alice", "a2");
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(a1 && a2 && b1);
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("r0", "bob", "zero")));
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("r1", "bob", "one")));
  for (const char* id : {"r0", "r1"}) ASSERT_TRUE(b1->NextInbox(WithId(id))) << b1->Pending();
  // Before anything can be trimmed (no device has a cursor yet), a re-send
  // is a duplicate: the original ack.
  auto dup = SendAndWaitAck(*a1, NewMessage("r0", "bob", "zero"));
  ASSERT_TRUE(dup) << a1->Pending();
  EXPECT_EQ(dup->signal_offset(), 1);
  EXPECT_EQ(dup->user_offset(), 1);

  // bob has both; alice's a1 cursor is 2, a2's 1: only r0's sender copy goes.
  ASSERT_NO_FATAL_FAILURE(ReceiptApplied(*b1, 2));
  ASSERT_NO_FATAL_FAILURE(ReceiptApplied(*a1, 2));
  ASSERT_NO_FATAL_FAILURE(ReceiptApplied(*a2, 1));
  EXPECT_TRUE(EventuallyOffsets(*a1, {2}));
  EXPECT_TRUE(EventuallyOffsets(*b1, {}));

  ASSERT_TRUE(b1->DrainInbox().empty()) << "a duplicate was delivered again";

  // r1's sender copy is kept: still a duplicate.
  dup = SendAndWaitAck(*a1, NewMessage("r1", "bob", "one"));
  ASSERT_TRUE(dup) << a1->Pending();
  EXPECT_EQ(dup->signal_offset(), 2);
  EXPECT_EQ(dup->user_offset(), 2);
  // r0's was trimmed with its dedup record: a new message, new offsets after
  // the heads (which never moved back).
  auto fresh = SendAndWaitAck(*a1, NewMessage("r0", "bob", "zero"));
  ASSERT_TRUE(fresh) << a1->Pending();
  EXPECT_EQ(fresh->signal_offset(), 3) << Describe(*fresh);
  EXPECT_EQ(fresh->user_offset(), 3) << Describe(*fresh);
  auto copy = b1->NextInbox(WithId("r0"));
  ASSERT_TRUE(copy) << b1->Pending();
  EXPECT_EQ(copy->signal_offset(), 3) << Describe(*copy);
  EXPECT_EQ(copy->user_offset(), 3) << Describe(*copy);
  for (const auto& m : b1->DrainInbox()) {
    EXPECT_NE(m.id(), "r1") << "the duplicate r1 was delivered again: " << Describe(m);
  }
  // And now it deduplicates against the new copy.
  dup = SendAndWaitAck(*a1, NewMessage("r0", "bob", "zero"));
  ASSERT_TRUE(dup) << a1->Pending();
  EXPECT_EQ(dup->signal_offset(), 3);
}

// Trimming an entry no device received (below the cursor because a later
// entry was acknowledged) must not leave it counted as undelivered: getUser
// would report entries that no longer exist, and max_undelivered would refuse
// messages to a user whose log holds nothing undelivered.
class RetentionQuotaTest : public RetentionTest {
 protected:
  Opts ExtraOptions() const override { return {{"retention_s", "1"}, {"max_undelivered", "2"}}; }

  // Sends `m` from `d` and waits for its SENDER ack or an error about it.
  std::optional<v1::Signal> SendAndWaitOutcome(CourierDevice& d, const v1::Message& m) {
    auto sent = d.Send(m);
    if (!sent) {
      ADD_FAILURE() << sent.message();
      return std::nullopt;
    }
    auto r = d.client().WaitFor([&](const Received& rec) {
      if (rec.topic != d.events() && rec.topic != d.device_events()) return false;
      auto s = ParseSignal(rec.payload);
      return s && s->id() == m.id() && (s->has_error() || (s->type() == kResponse && s->signal_type() == kSender));
    });
    if (!r) return std::nullopt;
    return ParseSignal(r->payload);
  }
};

TEST_F(RetentionQuotaTest, TrimmedEntriesNoLongerCountAsUndelivered) {
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(a1 && b1);
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("m1", "bob", "x")));
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("m2", "bob", "y")));
  // bob's device acknowledges the latest entry only: its cursor is 2, m1 was
  // never marked received.
  ASSERT_NO_FATAL_FAILURE(ReceiptApplied(*b1, 2));
  EXPECT_TRUE(EventuallyOffsets(*b1, {})) << "both entries are at or below every cursor";

  auto* admin = Admin();
  ASSERT_TRUE(admin);
  AdminClient::json data;
  ASSERT_TRUE(admin->Ok({{"command", "getUser"}, {"user", "bob"}}, &data));
  EXPECT_EQ(data, AdminClient::json::parse(
                      R"({"user":"bob","head":2,"devices":[{"device":"b1","cursor":2}],"undelivered":0})"))
      << "bob's log is empty, nothing of it is undelivered";

  // With max_undelivered 2, two new messages fit.
  for (const char* id : {"m3", "m4"}) {
    auto out = SendAndWaitOutcome(*a1, NewMessage(id, "bob", "z"));
    ASSERT_TRUE(out) << a1->Pending();
    EXPECT_FALSE(out->has_error()) << id << ": " << Describe(*out);
  }
}

}  // namespace
}  // namespace courier::it
