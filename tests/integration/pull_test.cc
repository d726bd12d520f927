// PULL (protocol.md §3 "Pull and push"): an offline device catches up with
// its backlog, oldest first, on its own inbox, then gets a RESPONSE with the
// log's head; limit and the per-device cursor (-1) are honoured.
#include <gtest/gtest.h>

#include "support/fixture.h"

namespace courier::it {
namespace {

class PullTest : public CourierTest {
 protected:
  // alice sends `n` messages m1..mn to bob (offline) and waits for the acks.
  void AliceSends(CourierDevice& a, int n) {
    for (int i = 1; i <= n; ++i) {
      ASSERT_TRUE(a.Send(NewMessage("m" + std::to_string(i), "bob", "p" + std::to_string(i))));
    }
    for (int i = 1; i <= n; ++i) {
      auto ack = a.NextEvent(SenderAckFor("m" + std::to_string(i)));
      ASSERT_TRUE(ack) << a.Pending();
    }
  }

  // Sends a PULL and returns the entries it delivered and its RESPONSE.
  struct PullResult {
    std::vector<v1::Message> entries;
    std::optional<v1::Signal> response;
  };
  PullResult Pull(CourierDevice& d, int offset, unsigned limit) {
    PullResult r;
    auto sent = d.Signal(PullRequest(offset, limit));
    if (!sent) {
      ADD_FAILURE() << sent.message();
      return r;
    }
    r.response = d.NextDeviceEvent(PullResponse());
    if (!r.response) ADD_FAILURE() << "no PULL response; queued:\n" << d.Pending();
    // The entries precede the RESPONSE, so they are all queued by now.
    r.entries = d.DrainDeviceInbox();
    return r;
  }

  static std::vector<int> Offsets(const std::vector<v1::Message>& ms) {
    std::vector<int> out;
    for (const auto& m : ms) out.push_back(m.signal_offset());
    return out;
  }
};

TEST_F(PullTest, OfflineDevicePullsBacklogInOrder) {
  auto* a1 = Online("alice", "a1");
  ASSERT_TRUE(a1);
  ASSERT_NO_FATAL_FAILURE(AliceSends(*a1, 5));

  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(b1);
  auto r = Pull(*b1, 0, 0);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(r.response->type(), kResponse);
  EXPECT_EQ(r.response->signal_request(), kPull);
  EXPECT_EQ(r.response->signal_offset(), 5) << "head";
  EXPECT_EQ(r.response->limit(), 5u) << "entries sent";
  ASSERT_EQ(r.entries.size(), 5u);
  for (int i = 1; i <= 5; ++i) {
    const auto& m = r.entries[i - 1];
    EXPECT_EQ(m.id(), "m" + std::to_string(i));
    EXPECT_EQ(m.signal_offset(), i);
    EXPECT_EQ(m.user_offset(), i);
    EXPECT_EQ(m.signal_type(), kReceiver);
    EXPECT_EQ(m.payload(), "p" + std::to_string(i));
    EXPECT_EQ(m.from().user(), "alice");
    EXPECT_EQ(m.from().device(), "a1");
    EXPECT_TRUE(m.signal_ack_state().send());
    EXPECT_EQ(m.signal_request(), kPull) << "pulled copies are marked PULL";
  }
  // Nothing of it went to the user-wide inbox of bob's other devices.
  EXPECT_TRUE(b1->DrainInbox().empty());
}

TEST_F(PullTest, ResponseEchoesIdAndConfirmsOffsetState) {
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(b1);
  v1::Signal p = PullRequest(0, 0);
  p.set_id("req-1");
  ASSERT_TRUE(b1->Signal(p));
  auto resp = b1->NextDeviceEvent(PullResponse());
  ASSERT_TRUE(resp) << b1->Pending();
  EXPECT_EQ(resp->id(), "req-1");
  EXPECT_TRUE(resp->signal_offset_state());
  EXPECT_EQ(resp->signal_offset(), 0) << "empty log";
  EXPECT_EQ(resp->limit(), 0u);
}

TEST_F(PullTest, PushRequestReturnsTheHeadOnly) {
  auto* a1 = Online("alice", "a1");
  ASSERT_TRUE(a1);
  ASSERT_NO_FATAL_FAILURE(AliceSends(*a1, 3));
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(b1);
  v1::Signal push;
  push.set_type(kRequest);
  push.set_signal_request(kPush);
  push.set_id("head?");
  ASSERT_TRUE(b1->Signal(push));
  auto resp = b1->NextDeviceEvent([](const v1::Signal& s) { return s.type() == kResponse && s.id() == "head?"; });
  ASSERT_TRUE(resp) << b1->Pending();
  EXPECT_FALSE(resp->has_error()) << Describe(*resp);
  EXPECT_EQ(resp->signal_offset(), 3);
  EXPECT_EQ(resp->limit(), 0u);
  // Sentinel: a pull, answered after the push request.
  auto r = Pull(*b1, 3, 0);
  ASSERT_TRUE(r.response);
  EXPECT_TRUE(r.entries.empty()) << "a PUSH request sent entries";
}

TEST_F(PullTest, LimitIsRespected) {
  auto* a1 = Online("alice", "a1");
  ASSERT_TRUE(a1);
  ASSERT_NO_FATAL_FAILURE(AliceSends(*a1, 5));
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(b1);

  auto r = Pull(*b1, 0, 2);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(Offsets(r.entries), (std::vector<int>{1, 2}));
  EXPECT_EQ(r.response->signal_offset(), 5);
  EXPECT_EQ(r.response->limit(), 2u);

  r = Pull(*b1, 2, 2);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(Offsets(r.entries), (std::vector<int>{3, 4}));
  EXPECT_EQ(r.response->limit(), 2u);

  r = Pull(*b1, 4, 10);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(Offsets(r.entries), (std::vector<int>{5}));
  EXPECT_EQ(r.response->limit(), 1u);

  r = Pull(*b1, 5, 10);
  ASSERT_TRUE(r.response);
  EXPECT_TRUE(r.entries.empty());
  EXPECT_EQ(r.response->signal_offset(), 5);
  EXPECT_EQ(r.response->limit(), 0u);
}

TEST_F(PullTest, DefaultLimitIsOneHundred) {
  auto* a1 = Online("alice", "a1");
  ASSERT_TRUE(a1);
  ASSERT_NO_FATAL_FAILURE(AliceSends(*a1, 101));
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(b1);
  auto r = Pull(*b1, 0, 0);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(r.response->signal_offset(), 101);
  EXPECT_EQ(r.response->limit(), 100u);
  ASSERT_EQ(r.entries.size(), 100u);
  EXPECT_EQ(r.entries.front().signal_offset(), 1);
  EXPECT_EQ(r.entries.back().signal_offset(), 100);
}

TEST_F(PullTest, MinusOnePullsFromThisDevicesCursor) {
  auto* a1 = Online("alice", "a1");
  ASSERT_TRUE(a1);
  ASSERT_NO_FATAL_FAILURE(AliceSends(*a1, 5));
  auto* b1 = Online("bob", "b1");
  auto* b2 = Online("bob", "b2");
  ASSERT_TRUE(b1 && b2);

  // No receipt yet: the cursor is 0.
  auto r = Pull(*b1, -1, 0);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(Offsets(r.entries), (std::vector<int>{1, 2, 3, 4, 5}));

  // A receipt for offset 3 moves b1's cursor to 3; a lower one does not move it back.
  v1::Signal rc = Receipt(3, true, false);
  rc.set_id("m3");
  ASSERT_TRUE(b1->Signal(rc));
  ASSERT_TRUE(a1->NextEvent(NoticeFor("m3", kReceiver))) << a1->Pending();
  rc = Receipt(2, true, false);
  rc.set_id("m2");
  ASSERT_TRUE(b1->Signal(rc));
  ASSERT_TRUE(a1->NextEvent(NoticeFor("m2", kReceiver))) << a1->Pending();

  r = Pull(*b1, -1, 0);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(Offsets(r.entries), (std::vector<int>{4, 5}));
  EXPECT_EQ(r.response->signal_offset(), 5);
  EXPECT_EQ(r.response->limit(), 2u);
  for (const auto& m : r.entries) EXPECT_FALSE(m.signal_ack_state().received()) << Describe(m);

  // The cursor is per device: b2 has not acknowledged anything.
  r = Pull(*b2, -1, 0);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(Offsets(r.entries), (std::vector<int>{1, 2, 3, 4, 5}));
  // ... and the state recorded by b1 shows in what b2 pulls.
  ASSERT_EQ(r.entries.size(), 5u);
  EXPECT_TRUE(r.entries[1].signal_ack_state().received());
  EXPECT_TRUE(r.entries[2].signal_ack_state().received());
  EXPECT_FALSE(r.entries[0].signal_ack_state().received());

  // -1 with a limit.
  r = Pull(*b1, -1, 1);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(Offsets(r.entries), (std::vector<int>{4}));
}

TEST_F(PullTest, RepeatedReceiptStillMovesTheCursor) {
  auto* a1 = Online("alice", "a1");
  ASSERT_TRUE(a1);
  ASSERT_NO_FATAL_FAILURE(AliceSends(*a1, 4));
  auto* b1 = Online("bob", "b1");
  auto* b2 = Online("bob", "b2");
  ASSERT_TRUE(b1 && b2);
  v1::Signal rc = Receipt(2, true, false);
  rc.set_id("m2");
  ASSERT_TRUE(b1->Signal(rc));
  ASSERT_TRUE(a1->NextEvent(NoticeFor("m2", kReceiver))) << a1->Pending();
  // b2 repeats it: no state change, but b2's cursor moves to 2.
  ASSERT_TRUE(b2->Signal(rc));
  auto r = Pull(*b2, -1, 0);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(Offsets(r.entries), (std::vector<int>{3, 4}));
}

TEST_F(PullTest, ReceiptOnOwnDeviceCopyMovesCursorOnly) {
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(a1 && b1);
  ASSERT_NO_FATAL_FAILURE(AliceSends(*a1, 2));
  ASSERT_EQ(b1->client().WaitForCount(b1->inbox(), 2).size(), 2u) << b1->Pending();

  // alice "reads" her own DEVICE copy of m1 (alice offset 1).
  v1::Signal own = Receipt(1, true, true);
  own.set_id("m1");
  ASSERT_TRUE(a1->Signal(own));
  auto r = Pull(*a1, -1, 0);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(Offsets(r.entries), (std::vector<int>{2}));
  // No state changed on either copy...
  r = Pull(*a1, 0, 1);
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_FALSE(r.entries[0].signal_ack_state().received()) << Describe(r.entries[0]);
  EXPECT_FALSE(r.entries[0].signal_ack_state().read()) << Describe(r.entries[0]);
  r = Pull(*b1, 0, 1);
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_FALSE(r.entries[0].signal_ack_state().received()) << Describe(r.entries[0]);
  // ... and nobody was told. Sentinel: bob's real receipt for m2.
  v1::Signal real = Receipt(2, true, false);
  real.set_id("m2");
  ASSERT_TRUE(b1->Signal(real));
  ASSERT_TRUE(a1->NextEvent(NoticeFor("m2", kReceiver))) << a1->Pending();
  ASSERT_TRUE(b1->NextEvent(NoticeFor("m2", kDevice))) << b1->Pending();
  for (const auto& e : a1->DrainEvents()) { EXPECT_FALSE(e.id() == "m1" && e.signal_type() != kSender) << Describe(e); }
  for (const auto& e : b1->DrainEvents()) EXPECT_NE(e.id(), "m1") << Describe(e);
  for (const auto& e : a1->DrainDeviceEvents()) EXPECT_FALSE(e.has_error()) << Describe(e);
}

TEST_F(PullTest, ReconnectingDeviceCatchesUpFromItsCursor) {
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(a1 && b1);
  ASSERT_NO_FATAL_FAILURE(AliceSends(*a1, 2));
  ASSERT_EQ(b1->client().WaitForCount(b1->inbox(), 2).size(), 2u) << b1->Pending();
  v1::Signal rc = Receipt(2, true, false);
  rc.set_id("m2");
  ASSERT_TRUE(b1->Signal(rc));
  ASSERT_TRUE(a1->NextEvent(NoticeFor("m2", kReceiver))) << a1->Pending();

  b1->Disconnect();
  for (int i = 3; i <= 4; ++i) {
    ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("m" + std::to_string(i), "bob", "later")));
  }
  ASSERT_TRUE(b1->Reconnect());
  auto r = Pull(*b1, -1, 0);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(Offsets(r.entries), (std::vector<int>{3, 4}));
  EXPECT_EQ(r.response->signal_offset(), 4);
}

class PullLimitsTest : public PullTest {
 protected:
  BrokerOptions Options() const override {
    BrokerOptions o;
    o.plugin_opts = {{"default_pull_limit", "2"}, {"max_pull_limit", "3"}};
    return o;
  }
};

TEST_F(PullLimitsTest, DefaultAndMaximumLimitsComeFromOptions) {
  auto* a1 = Online("alice", "a1");
  ASSERT_TRUE(a1);
  ASSERT_NO_FATAL_FAILURE(AliceSends(*a1, 5));
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(b1);
  auto r = Pull(*b1, 0, 0);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(Offsets(r.entries), (std::vector<int>{1, 2}));
  EXPECT_EQ(r.response->limit(), 2u);
  r = Pull(*b1, 0, 10);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(Offsets(r.entries), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(r.response->limit(), 3u);
  EXPECT_EQ(r.response->signal_offset(), 5);
}

}  // namespace
}  // namespace courier::it
