#include "validate.h"

#include <gtest/gtest.h>

#include <string>

#include "error_code.h"
#include "test_util.h"

namespace courier::core {
namespace {

using courier::testing::Msg;
using courier::v1::Message;
using courier::v1::Signal;

constexpr int64_t kNowMs = 1800000000000;  // the server clock in these tests

// The code of a rejection, or "accepted".
std::string Verdict(const Message& m, const CoreOptions& o = CoreOptions{}) {
  auto r = ValidateMessage(m, o, kNowMs);
  if (!r) return "accepted";
  EXPECT_FALSE(r->detail.empty()) << Name(r->code) << " has no detail";
  return std::string(Name(r->code));
}

std::string Kind(const Signal& s, const CoreOptions& o = CoreOptions{}) {
  auto k = ClassifySignal(s, o);
  if (auto* r = std::get_if<Rejection>(&k)) {
    EXPECT_FALSE(r->detail.empty()) << Name(r->code) << " has no detail";
    return std::string(Name(r->code));
  }
  switch (std::get<SignalKind>(k)) {
    case SignalKind::kActivity: return "activity";
    case SignalKind::kReceipt: return "receipt";
    case SignalKind::kPull: return "pull";
    case SignalKind::kPush: return "push";
    case SignalKind::kPushRegistration: return "push_registration";
  }
  return "?";
}

TEST(ErrorCode, NamesAreStable) {
  // Every code, in enum order: the names are part of the wire contract.
  const char* names[] = {"bad_payload",
                         "missing_id",
                         "id_too_long",
                         "missing_recipient",
                         "invalid_recipient",
                         "payload_too_large",
                         "id_conflict",
                         "unknown_offset",
                         "bad_signal",
                         "invalid_status",
                         "invalid_encryption_type",
                         "invalid_encrypted",
                         "invalid_signature",
                         "invalid_timestamp",
                         "not_authorized",
                         "unknown_group",
                         "not_member",
                         "invalid_priority",
                         "invalid_edit",
                         "unknown_original",
                         "edit_window_closed",
                         "already_recalled",
                         "recall_has_content",
                         "edit_changes_recipient",
                         "invalid_push_registration",
                         "internal",
                         "expired",
                         "store_full",
                         "store_unavailable",
                         "rate_limited",
                         "quota_exceeded"};
  ASSERT_EQ(std::size(names), static_cast<size_t>(ErrorCode::kCount));
  for (size_t i = 0; i < std::size(names); ++i) { EXPECT_EQ(Name(static_cast<ErrorCode>(i)), names[i]); }
}

TEST(ErrorCode, OnlyStoreAndLimitFailuresAreTransient) {
  for (size_t i = 0; i < static_cast<size_t>(ErrorCode::kCount); ++i) {
    const auto c = static_cast<ErrorCode>(i);
    const bool transient = c == ErrorCode::kStoreFull || c == ErrorCode::kStoreUnavailable ||
                           c == ErrorCode::kRateLimited || c == ErrorCode::kQuotaExceeded;
    EXPECT_EQ(IsTransient(c), transient) << Name(c);
  }
}

TEST(ClassifySignal, PushRegistration) {
  Signal s;
  s.set_type(1);
  s.mutable_push()->set_app("chat");
  s.mutable_push()->set_token("fcm-token");
  EXPECT_EQ(Kind(s), "push_registration");
  s.mutable_push()->clear_token();  // unregisters: no app needed
  s.mutable_push()->clear_app();
  EXPECT_EQ(Kind(s), "push_registration");
  s.mutable_push()->set_token("t");
  EXPECT_EQ(Kind(s), "invalid_push_registration") << "a token needs an app";
  s.mutable_push()->set_app(std::string(129, 'a'));
  EXPECT_EQ(Kind(s), "invalid_push_registration");
  s.mutable_push()->set_app("chat");
  s.mutable_push()->set_token(std::string(4097, 't'));
  EXPECT_EQ(Kind(s), "invalid_push_registration");
  s.mutable_push()->set_token(std::string(4096, 't'));
  EXPECT_EQ(Kind(s), "push_registration");
}

TEST(ValidateMessage, AcceptsAGoodMessage) {
  EXPECT_EQ(Verdict(Msg("m1", "bob")), "accepted");
  // Sending to yourself is a message like any other.
  EXPECT_EQ(Verdict(Msg("m1", "alice")), "accepted");
  // Empty content is allowed.
  EXPECT_EQ(Verdict(Msg("m1", "bob", "")), "accepted");
  // Server-owned fields set by the client are not a reason to refuse: they are overwritten.
  Message m = Msg("m1", "bob");
  m.set_signal_offset(42);
  m.set_user_offset(7);
  m.mutable_from()->set_user("mallory");
  m.set_signal_type(3);
  EXPECT_EQ(Verdict(m), "accepted");
}

TEST(ValidateMessage, MissingId) { EXPECT_EQ(Verdict(Msg("", "bob")), "missing_id"); }

TEST(ValidateMessage, IdLengthLimit) {
  CoreOptions o;
  EXPECT_EQ(Verdict(Msg(std::string(o.max_id_bytes, 'i'), "bob"), o), "accepted");
  EXPECT_EQ(Verdict(Msg(std::string(o.max_id_bytes + 1, 'i'), "bob"), o), "id_too_long");
  o.max_id_bytes = 4;
  EXPECT_EQ(Verdict(Msg("abcd", "bob"), o), "accepted");
  EXPECT_EQ(Verdict(Msg("abcde", "bob"), o), "id_too_long");
  // The limit is in bytes, not characters.
  EXPECT_EQ(Verdict(Msg("\xc3\xa9\xc3\xa9\xc3\xa9", "bob"), o), "id_too_long");
}

TEST(ValidateMessage, GroupRecipient) {
  // Whether the group exists is the store's to say; validation checks the name.
  Message m = Msg("m1", "");
  m.mutable_to()->set_group("friends");
  EXPECT_EQ(Verdict(m), "accepted");
  m.mutable_to()->set_group("fr/iends");
  EXPECT_EQ(Verdict(m), "invalid_recipient");
  m.mutable_to()->set_group("friends");
  m.mutable_to()->set_user("bob");  // a user or a group, not both
  EXPECT_EQ(Verdict(m), "invalid_recipient");
}

TEST(ValidateMessage, MissingRecipient) {
  EXPECT_EQ(Verdict(Msg("m1", "")), "missing_recipient");
  Message m = Msg("m1", "bob");
  m.clear_to();
  EXPECT_EQ(Verdict(m), "missing_recipient");
}

TEST(ValidateMessage, InvalidRecipient) {
  CoreOptions o;
  for (const std::string& to : {std::string("b/ob"), std::string("+"), std::string("#"), std::string("bo+b"),
                                std::string("b#"), std::string("a\0b", 3), std::string(o.max_name_bytes + 1, 'b')}) {
    EXPECT_EQ(Verdict(Msg("m1", to), o), "invalid_recipient") << to;
  }
  EXPECT_EQ(Verdict(Msg("m1", std::string(o.max_name_bytes, 'b')), o), "accepted");
}

TEST(ValidateMessage, PayloadLimitCountsPayloadAndEncrypted) {
  CoreOptions o;
  o.max_payload_bytes = 100;
  EXPECT_EQ(Verdict(Msg("m1", "bob", std::string(100, 'p')), o), "accepted");
  EXPECT_EQ(Verdict(Msg("m1", "bob", std::string(101, 'p')), o), "payload_too_large");

  Message m = Msg("m1", "bob", std::string(60, 'p'));
  m.set_encrypted(std::string(40, 'e'));
  EXPECT_EQ(Verdict(m, o), "accepted");
  m.set_encrypted(std::string(41, 'e'));
  EXPECT_EQ(Verdict(m, o), "payload_too_large");

  m = Msg("m1", "bob", "");
  m.set_encrypted(std::string(100, 'e'));
  EXPECT_EQ(Verdict(m, o), "accepted");
  m.set_encrypted(std::string(101, 'e'));
  EXPECT_EQ(Verdict(m, o), "payload_too_large");

  // The default limit.
  CoreOptions d;
  EXPECT_EQ(Verdict(Msg("m1", "bob", std::string(d.max_payload_bytes, 'p')), d), "accepted");
  EXPECT_EQ(Verdict(Msg("m1", "bob", std::string(d.max_payload_bytes + 1, 'p')), d), "payload_too_large");
}

TEST(ValidateMessage, TransientIsAccepted) {
  Message m = Msg("m1", "bob");
  m.set_transient(true);
  EXPECT_EQ(Verdict(m), "accepted");
}

TEST(ValidateMessage, Priority) {
  Message m = Msg("m1", "bob");
  m.set_priority(15);
  EXPECT_EQ(Verdict(m), "accepted");
  m.set_priority(16);
  EXPECT_EQ(Verdict(m), "invalid_priority");
}

TEST(ValidateMessage, FirstProblemWins) {
  // An empty id is reported before anything else.
  Message m = Msg("", "");
  m.set_transient(true);
  EXPECT_EQ(Verdict(m), "missing_id");
}

TEST(ClassifySignal, Activity) {
  for (int status = 1; status <= 8; ++status) {
    EXPECT_EQ(Kind(courier::testing::Activity("bob", status)), "activity") << status;
  }
}

TEST(ClassifySignal, ActivityRejections) {
  EXPECT_EQ(Kind(courier::testing::Activity("bob", 9)), "invalid_status");
  EXPECT_EQ(Kind(courier::testing::Activity("bob", -1)), "invalid_status");
  EXPECT_EQ(Kind(courier::testing::Activity("bob", 1000)), "invalid_status");
  EXPECT_EQ(Kind(courier::testing::Activity("", 1)), "missing_recipient");
  EXPECT_EQ(Kind(courier::testing::Activity("b/ob", 1)), "invalid_recipient");
  EXPECT_EQ(Kind(courier::testing::Activity("+", 1)), "invalid_recipient");
  EXPECT_EQ(Kind(courier::testing::Activity("#", 1)), "invalid_recipient");
  EXPECT_EQ(Kind(courier::testing::Activity(std::string(129, 'b'), 1)), "invalid_recipient");
  Signal g = courier::testing::Activity("", 4);
  g.mutable_to()->set_group("friends");
  EXPECT_EQ(Kind(g), "activity");  // the store checks that the group exists
  g.mutable_to()->set_group("#");
  EXPECT_EQ(Kind(g), "invalid_recipient");
}

TEST(ClassifySignal, Receipts) {
  EXPECT_EQ(Kind(courier::testing::Receipt("m1", 1, false)), "receipt");
  EXPECT_EQ(Kind(courier::testing::Receipt("m1", 7, true)), "receipt");
  Signal both = courier::testing::Receipt("m1", 3, true);
  both.mutable_signal_ack_state()->set_received(true);
  EXPECT_EQ(Kind(both), "receipt");
  // A receipt may ask for the next entry.
  Signal next = courier::testing::Receipt("m1", 3, false);
  next.set_signal_request(1);
  EXPECT_EQ(Kind(next), "receipt");
  // No id is needed: the offset names the entry.
  EXPECT_EQ(Kind(courier::testing::Receipt("", 3, false)), "receipt");
}

TEST(ClassifySignal, ReceiptNeedsAPositiveOffset) {
  EXPECT_EQ(Kind(courier::testing::Receipt("m1", 0, false)), "unknown_offset");
  EXPECT_EQ(Kind(courier::testing::Receipt("m1", -1, true)), "unknown_offset");
  EXPECT_EQ(Kind(courier::testing::Receipt("m1", -5, false)), "unknown_offset");
}

TEST(ClassifySignal, Pull) {
  EXPECT_EQ(Kind(courier::testing::PullSignal("p", 0, 10)), "pull");
  EXPECT_EQ(Kind(courier::testing::PullSignal("p", 5, 0)), "pull");
  EXPECT_EQ(Kind(courier::testing::PullSignal("p", -1, 10)), "pull");
  EXPECT_EQ(Kind(courier::testing::PullSignal("p", -2, 10)), "bad_signal");
  EXPECT_EQ(Kind(courier::testing::PullSignal("p", -1000, 10)), "bad_signal");
}

TEST(ClassifySignal, Push) {
  Signal s;
  s.set_type(1);
  s.set_signal_request(2);
  EXPECT_EQ(Kind(s), "push");
}

TEST(ClassifySignal, BadSignals) {
  EXPECT_EQ(Kind(Signal{}), "bad_signal");
  Signal s;
  s.set_id("x");
  s.set_signal_offset(3);
  EXPECT_EQ(Kind(s), "bad_signal");
  // A PULL that is not a REQUEST.
  Signal p = courier::testing::PullSignal("p", 0, 1);
  p.set_type(2);
  EXPECT_EQ(Kind(p), "bad_signal");
  p.set_type(0);
  EXPECT_EQ(Kind(p), "bad_signal");
  // A REQUEST with no or an unknown signal_request.
  Signal r;
  r.set_type(1);
  EXPECT_EQ(Kind(r), "bad_signal");
  r.set_signal_request(3);
  EXPECT_EQ(Kind(r), "bad_signal");
  // Ack state "send" alone is no receipt.
  Signal send;
  send.set_signal_offset(1);
  send.mutable_signal_ack_state()->set_send(true);
  EXPECT_EQ(Kind(send), "bad_signal");
}

TEST(SameContent, IgnoresTimestampsExpiryPriorityAndServerFields) {
  Message a = Msg("m1", "bob", "hi");
  Message b = a;
  b.set_timestamp(a.timestamp() + 5000);
  b.set_expiry(60);
  b.set_priority(3);
  b.set_signal_offset(9);
  b.set_user_offset(4);
  b.set_server_timestamp(123);
  b.set_signal_type(2);
  b.mutable_signal_ack_state()->set_read(true);
  b.mutable_from()->set_device("tablet");
  EXPECT_TRUE(SameContent(a, b));
  EXPECT_TRUE(SameContent(b, a));
  EXPECT_TRUE(SameContent(a, a));
}

TEST(SameContent, DetectsEveryContentDifference) {
  const Message a = [] {
    Message m = Msg("m1", "bob", "hi");
    m.set_encryption_type("AES256");
    m.set_encrypted("ZW5j");
    m.set_signature("c2ln");
    m.set_type(7);
    return m;
  }();
  auto differs = [&](auto mutate) {
    Message b = a;
    mutate(b);
    return !SameContent(a, b) && !SameContent(b, a);
  };
  EXPECT_TRUE(differs([](Message& m) { m.mutable_to()->set_user("carol"); }));
  EXPECT_TRUE(differs([](Message& m) { m.mutable_to()->set_group("g"); }));
  EXPECT_TRUE(differs([](Message& m) { m.set_payload("hj"); }));
  EXPECT_TRUE(differs([](Message& m) { m.set_payload(""); }));
  EXPECT_TRUE(differs([](Message& m) { m.set_encryption_type("E2E"); }));
  EXPECT_TRUE(differs([](Message& m) { m.set_encrypted("other"); }));
  EXPECT_TRUE(differs([](Message& m) { m.set_signature(""); }));
  EXPECT_TRUE(differs([](Message& m) { m.set_type(8); }));
}

}  // namespace
}  // namespace courier::core

namespace courier::core {
namespace {

TEST(ValidateMessage, EncryptionType) {
  for (const char* ok : {"", "none", "AES256", "E2E", "CUSTOM"}) {
    Message m = Msg("m1", "bob");
    m.set_encryption_type(ok);
    EXPECT_EQ(Verdict(m), "accepted") << ok;
  }
  for (const char* bad : {"aes256", "NONE", "rot13", " E2E"}) {
    Message m = Msg("m1", "bob");
    m.set_encryption_type(bad);
    EXPECT_EQ(Verdict(m), "invalid_encryption_type") << bad;
  }
}

TEST(ValidateMessage, EncryptedAndSignatureMustBeBase64) {
  for (const char* ok : {"", "QQ==", "QUI=", "QUJD", "aGVsbG8gd29ybGQ=", "+/+/"}) {
    EXPECT_TRUE(IsBase64(ok)) << ok;
    Message m = Msg("m1", "bob");
    m.set_encrypted(ok);
    m.set_signature(ok);
    EXPECT_EQ(Verdict(m), "accepted") << ok;
  }
  for (const char* bad : {"QQ", "Q===", "QUJ", "QU=D", "QUJD!", "QUJD\n", "===="}) {
    EXPECT_FALSE(IsBase64(bad)) << bad;
    Message enc = Msg("m1", "bob");
    enc.set_encrypted(bad);
    EXPECT_EQ(Verdict(enc), "invalid_encrypted") << bad;
    Message sig = Msg("m1", "bob");
    sig.set_signature(bad);
    EXPECT_EQ(Verdict(sig), "invalid_signature") << bad;
  }
}

TEST(ValidateMessage, TimestampNotNegativeNorFarAhead) {
  CoreOptions o;
  o.max_clock_skew_s = 60;
  Message m = Msg("m1", "bob");
  m.set_timestamp(kNowMs + 60'000);
  EXPECT_EQ(Verdict(m, o), "accepted");
  m.set_timestamp(kNowMs + 60'001);
  EXPECT_EQ(Verdict(m, o), "invalid_timestamp");
  m.set_timestamp(0);
  EXPECT_EQ(Verdict(m, o), "accepted");
  m.set_timestamp(-1);
  EXPECT_EQ(Verdict(m, o), "invalid_timestamp");
  m.set_timestamp(1);  // long ago is fine: devices queue offline
  EXPECT_EQ(Verdict(m, o), "accepted");
}

TEST(ClassifySignal, UnknownTypeOrRequestIsBadSignal) {
  Signal s = courier::testing::PullSignal("p", 0, 1);
  s.set_type(4);
  EXPECT_EQ(Kind(s), "bad_signal");
  s.set_type(-1);
  EXPECT_EQ(Kind(s), "bad_signal");
  s = courier::testing::PullSignal("p", 0, 1);
  s.set_signal_request(3);
  EXPECT_EQ(Kind(s), "bad_signal");
  s = courier::testing::Receipt("r", 1, false);
  s.set_signal_request(-5);
  EXPECT_EQ(Kind(s), "bad_signal");
}

}  // namespace
}  // namespace courier::core
