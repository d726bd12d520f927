// Validation and abuse limits (docs/protocol.md "Errors", docs/security.md):
// one test per error code, each checking the exact Signal that comes back on
// the publishing device's events topic:
//   permanent: type ERROR (3), id, error "code: detail", signal_offset_state
//              false, nothing else set;
//   transient: type RESPONSE (2), otherwise the same.
// and that nothing was stored. The codes of errors_test.cc are not repeated.
#include <gtest/gtest.h>

#include <chrono>
#include <climits>
#include <string>
#include <thread>
#include <vector>

#include "support/fixture.h"

namespace courier::it {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The next error Signal on d's own events topic must be exactly: id, type,
// error "code: <detail>", and no other field set.
::testing::AssertionResult ExactError(CourierDevice& d, const std::string& id, const std::string& code,
                                      bool transient) {
  auto s = d.NextDeviceEvent(AnyError());
  if (!s) {
    return ::testing::AssertionFailure() << "no error Signal (expected " << code << " for '" << id << "'); queued:\n"
                                         << d.Pending();
  }
  const std::string prefix = code + ": ";
  if (s->error().compare(0, prefix.size(), prefix) != 0 || s->error().size() == prefix.size()) {
    return ::testing::AssertionFailure() << "expected error '" << prefix << "<detail>', got " << Describe(*s);
  }
  v1::Signal want;
  want.set_id(id);
  want.set_type(transient ? kResponse : kError);
  want.set_error(s->error());
  want.set_signal_offset_state(false);
  if (s->SerializeAsString() != want.SerializeAsString()) {
    return ::testing::AssertionFailure() << "expected exactly " << Describe(want) << "\n             got "
                                         << Describe(*s);
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult Permanent(CourierDevice& d, const std::string& id, const std::string& code) {
  return ExactError(d, id, code, false);
}
::testing::AssertionResult Transient(CourierDevice& d, const std::string& id, const std::string& code) {
  return ExactError(d, id, code, true);
}

class LimitCodesTest : public CourierTest {
 protected:
  void Connect() {
    a1 = Online("alice", "a1");
    b1 = Online("bob", "b1");
    ASSERT_TRUE(a1 && b1);
  }
  // Sends each message and expects the permanent error `code` for it.
  void ExpectRejected(const std::vector<v1::Message>& bad, const std::string& code) {
    for (const auto& m : bad) {
      ASSERT_TRUE(a1->Send(m));
      EXPECT_TRUE(Permanent(*a1, m.id(), code)) << Describe(m);
    }
  }
  // Sends each message and expects it stored, at alice's offsets first, first + 1, ...
  void ExpectAccepted(const std::vector<v1::Message>& good, int first) {
    for (size_t i = 0; i < good.size(); ++i) {
      auto ack = SendAndWaitAck(*a1, good[i]);
      ASSERT_TRUE(ack) << Describe(good[i]) << "\n" << a1->Pending();
      EXPECT_EQ(ack->signal_offset(), first + static_cast<int>(i)) << Describe(good[i]);
      for (const auto& e : a1->DrainDeviceEvents()) ADD_FAILURE() << "unexpected: " << Describe(e);
    }
  }
  // Nothing rejected was stored: bob's log holds exactly `ids`, in order.
  void ExpectBobsLog(const std::vector<std::string>& ids) {
    v1::Signal p = PullRequest(0, 1000);
    p.set_id("check");
    ASSERT_TRUE(b1->Signal(p));
    auto resp = b1->NextDeviceEvent(PullResponse());
    ASSERT_TRUE(resp) << b1->Pending();
    EXPECT_EQ(resp->signal_offset(), static_cast<int>(ids.size())) << "bob's head";
    auto got = b1->DeviceInboxBatch(ids.size());
    ASSERT_EQ(got.size(), ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      EXPECT_EQ(got[i].id(), ids[i]);
      EXPECT_EQ(got[i].signal_offset(), static_cast<int>(i) + 1);
    }
  }

  v1::Message With(const std::string& id, void (*set)(v1::Message&, const std::string&), const std::string& v) {
    v1::Message m = NewMessage(id, "bob", "payload");
    set(m, v);
    return m;
  }

  CourierDevice* a1 = nullptr;
  CourierDevice* b1 = nullptr;
};

void SetEncType(v1::Message& m, const std::string& v) { m.set_encryption_type(v); }
void SetEncrypted(v1::Message& m, const std::string& v) { m.set_encrypted(v); }
void SetSignature(v1::Message& m, const std::string& v) { m.set_signature(v); }

const std::vector<std::string> kBadBase64 = {
    "abc",   // not a multiple of 4
    "ab!d",  // not in the alphabet
    "YW-j",  // base64url, not the standard alphabet
    "YW_j",
    "Y===",  // three padding characters
    "====",
    "=YWJ",      // padding first
    "YQ==YQ==",  // padding in the middle
    "YWJj\n",    // whitespace
    "YW Jj",    std::string("YW\0j", 4),
};
const std::vector<std::string> kGoodBase64 = {"", "YWJj", "YQ==", "YWI=", "+/+/", "AAAAAAAA"};

TEST_F(LimitCodesTest, InvalidEncryptionType) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  std::vector<v1::Message> bad, good;
  int i = 0;
  for (const std::string& v :
       std::vector<std::string>{"rot13", "aes256", "NONE", " none", "E2E ", "AES-256", std::string("none\0", 5)}) {
    bad.push_back(With("bad-enc-" + std::to_string(i++), SetEncType, v));
  }
  for (const std::string v : {"", "none", "AES256", "E2E", "CUSTOM"}) {
    good.push_back(With("enc-" + std::to_string(i++), SetEncType, v));
  }
  ExpectRejected(bad, "invalid_encryption_type");
  ExpectAccepted(good, 1);
  std::vector<std::string> ids;
  for (const auto& m : good) ids.push_back(m.id());
  ExpectBobsLog(ids);
}

TEST_F(LimitCodesTest, InvalidEncrypted) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  std::vector<v1::Message> bad, good;
  int i = 0;
  for (const auto& v : kBadBase64) bad.push_back(With("bad-b64-" + std::to_string(i++), SetEncrypted, v));
  for (const auto& v : kGoodBase64) good.push_back(With("b64-" + std::to_string(i++), SetEncrypted, v));
  ExpectRejected(bad, "invalid_encrypted");
  ExpectAccepted(good, 1);
  std::vector<std::string> ids;
  for (const auto& m : good) ids.push_back(m.id());
  ExpectBobsLog(ids);
}

TEST_F(LimitCodesTest, InvalidSignature) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  std::vector<v1::Message> bad, good;
  int i = 0;
  for (const auto& v : kBadBase64) bad.push_back(With("bad-sig-" + std::to_string(i++), SetSignature, v));
  for (const auto& v : kGoodBase64) good.push_back(With("sig-" + std::to_string(i++), SetSignature, v));
  // A valid encrypted does not excuse a bad signature.
  v1::Message both = With("bad-sig-both", SetSignature, "abc");
  both.set_encrypted("YWJj");
  bad.push_back(both);
  ExpectRejected(bad, "invalid_signature");
  ExpectAccepted(good, 1);
  std::vector<std::string> ids;
  for (const auto& m : good) ids.push_back(m.id());
  ExpectBobsLog(ids);
}

TEST_F(LimitCodesTest, InvalidTimestampDefaultSkewOneDay) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  const int64_t now = NowMs();
  const int64_t day_ms = 86400LL * 1000;
  std::vector<v1::Message> bad, good;
  int i = 0;
  for (int64_t t :
       {int64_t{-1}, -day_ms, int64_t{LLONG_MIN}, now + day_ms + 60'000, now + 10 * day_ms, int64_t{LLONG_MAX}}) {
    v1::Message m = NewMessage("bad-ts-" + std::to_string(i++), "bob", "p");
    m.set_timestamp(t);
    bad.push_back(m);
  }
  // 0 (unset), long ago, now, and just within the skew are fine.
  for (int64_t t : {int64_t{0}, int64_t{1}, now - 365 * day_ms, now, now + day_ms - 60'000}) {
    v1::Message m = NewMessage("ts-" + std::to_string(i++), "bob", "p");
    m.set_timestamp(t);
    good.push_back(m);
  }
  ExpectRejected(bad, "invalid_timestamp");
  ExpectAccepted(good, 1);
  std::vector<std::string> ids;
  for (const auto& m : good) ids.push_back(m.id());
  ExpectBobsLog(ids);
}

class ClockSkewTest : public LimitCodesTest {
 protected:
  BrokerOptions Options() const override {
    BrokerOptions o;
    o.plugin_opts = {{"max_clock_skew_s", "60"}};
    return o;
  }
};

TEST_F(ClockSkewTest, InvalidTimestampHonoursMaxClockSkew) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  v1::Message ahead = NewMessage("ahead", "bob", "p");
  ahead.set_timestamp(NowMs() + 120'000);
  ExpectRejected({ahead}, "invalid_timestamp");
  v1::Message close = NewMessage("close", "bob", "p");
  close.set_timestamp(NowMs() + 30'000);
  ExpectAccepted({close}, 1);
  ExpectBobsLog({"close"});
}

TEST_F(LimitCodesTest, BadSignalTypeOrRequestOutOfRange) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("m1", "bob", "x")));
  ASSERT_TRUE(b1->NextInbox(WithId("m1"))) << b1->Pending();
  std::vector<v1::Signal> bad;
  for (int type : {4, -1, 1000}) {  // a receipt of entry 1 with a type outside 0..3
    v1::Signal s = Receipt(1, true, true);
    s.set_id("type" + std::to_string(type));
    s.set_type(type);
    bad.push_back(s);
  }
  for (int request : {3, -1}) {
    v1::Signal pull = PullRequest(0, 10);
    pull.set_signal_request(request);
    pull.set_id("request" + std::to_string(request));
    bad.push_back(pull);
    v1::Signal receipt = Receipt(1, true, false);  // a receipt asking for a "pull" outside 0..2
    receipt.set_signal_request(request);
    receipt.set_id("receipt-request" + std::to_string(request));
    bad.push_back(receipt);
  }
  v1::Signal typing = Activity("alice", kTyping);
  typing.set_type(7);
  typing.set_id("activity-type7");
  bad.push_back(typing);
  for (const auto& s : bad) {
    ASSERT_TRUE(b1->Signal(s));
    EXPECT_TRUE(Permanent(*b1, s.id(), "bad_signal")) << Describe(s);
  }
  // None of them marked entry 1, pulled or forwarded anything. Sentinel: a
  // valid receipt whose notice alice receives.
  v1::Signal ok = Receipt(1, true, false);
  ok.set_id("m1");
  ASSERT_TRUE(b1->Signal(ok));
  auto notice = a1->NextEvent(NoticeFor("m1", kReceiver));
  ASSERT_TRUE(notice) << a1->Pending();
  EXPECT_FALSE(notice->signal_ack_state().read()) << "a refused read receipt was applied: " << Describe(*notice);
  for (const auto& e : a1->DrainEvents()) ADD_FAILURE() << "unexpected: " << Describe(e);
  for (const auto& m : b1->DrainDeviceInbox()) ADD_FAILURE() << "a refused pull sent " << Describe(m);
  for (const auto& e : b1->DrainDeviceEvents()) ADD_FAILURE() << "unexpected: " << Describe(e);
}

// ---- rate limit ---------------------------------------------------------------

// One token per second, bucket of 2 (the default: twice the rate).
class RateLimitTest : public LimitCodesTest {
 protected:
  BrokerOptions Options() const override {
    BrokerOptions o;
    o.plugin_opts = {{"rate_limit_per_s", "1"}};
    return o;
  }

  // The reply to the publish of `id` by d: its SENDER ack, or an error.
  struct Reply {
    bool acked = false;
    std::optional<v1::Signal> signal;
  };
  Reply ReplyTo(CourierDevice& d, const std::string& id) {
    auto r = d.client().WaitFor([&](const Received& rec) {
      auto s = ParseSignal(rec.payload);
      if (!s || s->id() != id) return false;
      return (rec.topic == d.events() && s->signal_type() == kSender && !s->has_error()) ||
             (rec.topic == d.device_events() && s->has_error());
    });
    if (!r) return {};
    return {r->topic == d.events(), ParseSignal(r->payload)};
  }
};

TEST_F(RateLimitTest, OverLimitIsTransientOthersUnaffectedRetrySucceedsOnce) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  auto* a2 = Online("alice", "a2");
  ASSERT_TRUE(a2);
  // A burst from a1. The bucket starts full (2 tokens) and refills 1 per
  // second, so at most 2 + (seconds the burst took) publishes get through.
  constexpr int kBurst = 6;
  const auto t0 = Clock::now();
  for (int i = 0; i < kBurst; ++i) ASSERT_TRUE(a1->Send(NewMessage("r" + std::to_string(i), "bob", "x")));
  const double elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::vector<std::string> accepted, limited;
  for (int i = 0; i < kBurst; ++i) {
    const std::string id = "r" + std::to_string(i);
    Reply r = ReplyTo(*a1, id);
    ASSERT_TRUE(r.signal) << "no reply for " << id << "\n" << a1->Pending();
    if (r.acked) {
      accepted.push_back(id);
      continue;
    }
    limited.push_back(id);
    v1::Signal want;
    want.set_id(id);
    want.set_type(kResponse);
    want.set_error(r.signal->error());
    EXPECT_EQ(r.signal->error().rfind("rate_limited: ", 0), 0u) << Describe(*r.signal);
    EXPECT_EQ(r.signal->SerializeAsString(), want.SerializeAsString()) << Describe(*r.signal);
  }
  ASSERT_GE(accepted.size(), 2u) << "the bucket starts full";
  EXPECT_EQ(accepted[0], "r0");
  EXPECT_EQ(accepted[1], "r1");
  EXPECT_LE(static_cast<double>(accepted.size()), 2 + elapsed_s + 1e-9)
      << "more got through than the bucket allows in " << elapsed_s << " s";
  if (elapsed_s < kBurst - 2 - 1) {
    ASSERT_FALSE(limited.empty()) << "nothing was rate limited in a burst of " << elapsed_s << " s";
  }
  if (limited.empty()) GTEST_SKIP() << "the burst took " << elapsed_s << " s: too slow to test the limit";
  EXPECT_TRUE(a1->client().connected()) << "a rate-limited client must not be disconnected";

  // Another client of the same user, and another user, are not limited.
  ASSERT_TRUE(SendAndWaitAck(*a2, NewMessage("from-a2", "bob", "x"))) << a2->Pending();
  ASSERT_TRUE(SendAndWaitAck(*b1, NewMessage("from-b1", "alice", "x"))) << b1->Pending();

  // After 1/rate s a1 has a token again: the retry of the first limited id
  // goes through. An immediate second publish finds the bucket empty again.
  std::this_thread::sleep_for(1100ms);
  const std::string retry = limited.front();
  const auto t1 = Clock::now();
  ASSERT_TRUE(a1->Send(NewMessage(retry, "bob", "x")));
  ASSERT_TRUE(a1->Send(NewMessage("r-again", "bob", "x")));
  const double second_s = std::chrono::duration<double>(Clock::now() - t1).count();
  Reply first = ReplyTo(*a1, retry);
  ASSERT_TRUE(first.signal) << a1->Pending();
  EXPECT_TRUE(first.acked) << "the retry after 1/rate s was refused: " << Describe(*first.signal);
  Reply second = ReplyTo(*a1, "r-again");
  ASSERT_TRUE(second.signal) << a1->Pending();
  if (second_s < 0.8) {
    EXPECT_FALSE(second.acked) << "two publishes got through on one refilled token";
    EXPECT_EQ(second.signal->error().rfind("rate_limited: ", 0), 0u) << Describe(*second.signal);
  }

  // Exactly once: bob's log has every accepted id once, the limited ones
  // only where retried, and a later retry of the same id is a duplicate.
  std::this_thread::sleep_for(1100ms);
  auto dup = SendAndWaitAck(*a1, NewMessage(retry, "bob", "x"));
  ASSERT_TRUE(dup) << a1->Pending();
  std::vector<std::string> want = accepted;
  want.push_back("from-a2");
  want.push_back("from-b1");  // bob's own DEVICE copy of his message to alice
  want.push_back(retry);
  if (second.acked) want.push_back("r-again");
  EXPECT_EQ(dup->signal_offset(), first.signal->signal_offset()) << "a repeated id is answered with the original ack";
  ExpectBobsLog(want);
}

TEST_F(RateLimitTest, SignalsCountAndGetTheErrorWithTheirId) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  // Spend the bucket (2 tokens) and more with pulls; the error names each
  // refused pull's id.
  const auto t0 = Clock::now();
  for (int i = 0; i < 5; ++i) {
    v1::Signal p = PullRequest(0, 1);
    p.set_id("p" + std::to_string(i));
    ASSERT_TRUE(a1->Signal(p));
  }
  const double elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
  int responses = 0, limited = 0;
  for (int i = 0; i < 5; ++i) {
    const std::string id = "p" + std::to_string(i);
    auto s = a1->NextDeviceEvent(WithId(id));
    ASSERT_TRUE(s) << a1->Pending();
    if (s->has_error()) {
      ++limited;
      v1::Signal want;
      want.set_id(id);
      want.set_type(kResponse);
      want.set_error(s->error());
      EXPECT_EQ(s->error().rfind("rate_limited: ", 0), 0u) << Describe(*s);
      EXPECT_EQ(s->SerializeAsString(), want.SerializeAsString()) << Describe(*s);
    } else {
      ++responses;
    }
  }
  EXPECT_GE(responses, 2);
  EXPECT_LE(responses, 2 + elapsed_s + 1e-9);
  if (elapsed_s < 2) { EXPECT_GE(limited, 1); }
}

// Off by default: a fast burst all goes through.
TEST_F(LimitCodesTest, NoRateLimitByDefault) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(a1->Send(NewMessage("f" + std::to_string(i), "bob", "x")));
  for (int i = 0; i < 30; ++i) { ASSERT_TRUE(a1->NextEvent(SenderAckFor("f" + std::to_string(i)))) << a1->Pending(); }
  for (const auto& e : a1->DrainDeviceEvents()) ADD_FAILURE() << Describe(e);
}

// ---- quota of undelivered entries ------------------------------------------------

class QuotaTest : public LimitCodesTest {
 protected:
  BrokerOptions Options() const override {
    BrokerOptions o;
    o.plugin_opts = {{"max_undelivered", "2"}};
    return o;
  }
};

TEST_F(QuotaTest, FullReceiverRefusesTransientlyUntilReceived) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  auto* c1 = Online("carol", "c1");
  ASSERT_TRUE(c1);
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("q1", "bob", "x")));
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("q2", "bob", "x")));
  // bob holds 2 entries no device of his received: the third is refused,
  // from any sender.
  ASSERT_TRUE(a1->Send(NewMessage("q3", "bob", "x")));
  EXPECT_TRUE(Transient(*a1, "q3", "quota_exceeded"));
  ASSERT_TRUE(c1->Send(NewMessage("c-q", "bob", "x")));
  EXPECT_TRUE(Transient(*c1, "c-q", "quota_exceeded"));
  EXPECT_TRUE(a1->client().connected());
  // A retry of an id already stored is still answered with its ack.
  auto dup = SendAndWaitAck(*a1, NewMessage("q1", "bob", "x"));
  ASSERT_TRUE(dup) << a1->Pending();
  EXPECT_EQ(dup->signal_offset(), 1);
  // Other receivers are not affected.
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("to-carol", "carol", "x"))) << a1->Pending();

  // bob's device receives entry 1: the retried q3 goes through, once.
  v1::Signal r1 = Receipt(1, true, false);
  r1.set_id("q1");
  ASSERT_TRUE(b1->Signal(r1));
  ASSERT_TRUE(a1->NextEvent(NoticeFor("q1", kReceiver))) << a1->Pending();
  auto ack = SendAndWaitAck(*a1, NewMessage("q3", "bob", "x"));
  ASSERT_TRUE(ack) << a1->Pending();
  for (const auto& e : a1->DrainDeviceEvents()) ADD_FAILURE() << "unexpected: " << Describe(e);

  // Full again (q2, q3): refused until a read receipt (read implies received).
  ASSERT_TRUE(a1->Send(NewMessage("q4", "bob", "x")));
  EXPECT_TRUE(Transient(*a1, "q4", "quota_exceeded"));
  v1::Signal r2 = Receipt(2, false, true);
  r2.set_id("q2");
  ASSERT_TRUE(b1->Signal(r2));
  ASSERT_TRUE(a1->NextEvent(NoticeFor("q2", kReceiver))) << a1->Pending();
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("q4", "bob", "x"))) << a1->Pending();
  ExpectBobsLog({"q1", "q2", "q3", "q4"});
}

TEST_F(QuotaTest, QuotaHoldsWithinOneBatch) {
  ASSERT_NO_FATAL_FAILURE(Connect());
  // Published back to back: whether they share a commit or not, exactly two
  // are stored and two refused.
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(a1->Send(NewMessage("b" + std::to_string(i), "bob", "x")));
  std::vector<std::string> stored;
  for (int i = 0; i < 4; ++i) {
    const std::string id = "b" + std::to_string(i);
    auto r = a1->client().WaitFor([&](const Received& rec) {
      auto s = ParseSignal(rec.payload);
      return s && s->id() == id &&
             ((rec.topic == a1->events() && s->signal_type() == kSender) ||
              (rec.topic == a1->device_events() && s->has_error()));
    });
    ASSERT_TRUE(r) << a1->Pending();
    auto s = ParseSignal(r->payload);
    if (r->topic == a1->events()) {
      stored.push_back(id);
    } else {
      EXPECT_EQ(s->type(), kResponse) << Describe(*s);
      EXPECT_EQ(s->error().rfind("quota_exceeded: ", 0), 0u) << Describe(*s);
    }
  }
  EXPECT_EQ(stored, (std::vector<std::string>{"b0", "b1"}));
  ExpectBobsLog(stored);
}

}  // namespace
}  // namespace courier::it
