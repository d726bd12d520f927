// Engine::OnPublish and Engine::OnCompletion with hand-built completions:
// no store, no broker.
#include "engine.h"
#include "reply.h"

#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "test_util.h"

namespace courier::core {
namespace {

using courier::testing::AsMessage;
using courier::testing::AsSignal;
using courier::testing::Ident;
using courier::testing::Msg;
using courier::testing::TopicsOf;
using courier::v1::Message;
using courier::v1::Signal;
using storage::AppendRequest;
using storage::AppendResult;
using storage::Completion;
using storage::PullRequest;
using storage::PullResult;
using storage::ReceiptRequest;
using storage::ReceiptResult;
using storage::Status;

constexpr int64_t kNow = 1'700'000'000'123;

class EngineTest : public ::testing::Test {
 protected:
  Decision Publish(std::string_view topic, const std::string& payload, std::string_view user = "alice",
                   std::string_view client = "phone") const {
    return engine_.OnPublish(Inbound{.topic = topic, .payload = payload, .user = user, .client_id = client,
                                     .now_ms = kNow});
  }
  Decision Send(const Message& m, std::string_view user = "alice", std::string_view client = "phone") const {
    return Publish(engine_.topics().prefix() + "/" + std::string(user) + "/send", m.SerializeAsString(), user,
                   client);
  }
  Decision SendSignal(const Signal& s, std::string_view user = "alice", std::string_view client = "phone") const {
    return Publish(engine_.topics().prefix() + "/" + std::string(user) + "/signal", s.SerializeAsString(), user,
                   client);
  }
  // The one AppendRequest of a send that passed validation.
  AppendRequest AppendOf(const Message& m, std::string_view user = "alice", std::string_view client = "phone") {
    Decision d = Send(m, user, client);
    EXPECT_TRUE(d.consumed);
    EXPECT_TRUE(d.publish.empty());
    EXPECT_EQ(d.requests.size(), 1u);
    if (d.requests.size() != 1 || !std::holds_alternative<AppendRequest>(d.requests[0])) {
      ADD_FAILURE() << "no AppendRequest";
      return {};
    }
    return std::get<AppendRequest>(d.requests[0]);
  }

  Engine engine_{CoreOptions{}};
};

// Expects `d` to be exactly one error Signal to alice's phone, and nothing stored.
void ExpectRejected(const Decision& d, std::string_view code, std::string_view id,
                    std::string_view topic = "msg/alice/devices/phone/events") {
  EXPECT_TRUE(d.consumed);
  EXPECT_TRUE(d.requests.empty()) << code;
  ASSERT_EQ(d.publish.size(), 1u) << code;
  EXPECT_EQ(d.publish[0].topic, topic);
  Signal s = AsSignal(d.publish[0]);
  EXPECT_EQ(s.type(), 3) << code;  // ERROR
  EXPECT_EQ(s.id(), id);
  ASSERT_TRUE(s.has_error()) << code;
  EXPECT_EQ(s.error().rfind(std::string(code) + ":", 0), 0u) << "error '" << s.error() << "' for " << code;
  EXPECT_GT(s.error().size(), code.size() + 2) << "no detail: " << s.error();
  EXPECT_FALSE(s.signal_offset_state());
}

// Expects `s` to be a transient error: RESPONSE, state false, error "code: ...".
void ExpectTransient(const Signal& s, std::string_view code, std::string_view id) {
  EXPECT_EQ(s.type(), 2) << code;  // RESPONSE
  EXPECT_FALSE(s.signal_offset_state());
  EXPECT_EQ(s.id(), id);
  ASSERT_TRUE(s.has_error()) << code;
  EXPECT_EQ(s.error().rfind(std::string(code) + ":", 0), 0u) << "error '" << s.error() << "' for " << code;
}

// ---------------------------------------------------------------- send

TEST_F(EngineTest, SendBecomesOneAppendWithServerFieldsSet) {
  Message m = Msg("m1", "bob", "payload-bytes");
  m.set_timestamp(555);
  m.set_expiry(30);
  m.set_priority(2);
  m.set_type(9);
  m.set_encryption_type("AES256");
  m.set_encrypted("ZW5j");
  m.set_signature("c2ln");
  // Whatever the client puts in server-owned fields is discarded.
  *m.mutable_from() = Ident("mallory", "evil");
  m.set_signal_offset(77);
  m.set_user_offset(88);
  m.set_signal_type(3);
  m.set_signal_request(1);
  m.set_server_timestamp(42);
  m.mutable_signal_ack_state()->set_received(true);
  m.mutable_signal_ack_state()->set_read(true);

  AppendRequest req = AppendOf(m);
  EXPECT_EQ(req.sender, "alice");
  ASSERT_EQ(req.receivers.size(), 1u);
  EXPECT_EQ(req.receivers[0], "bob");
  EXPECT_FALSE(req.conversation.empty());

  const Message& out = req.message;
  EXPECT_EQ(out.id(), "m1");
  EXPECT_EQ(out.from().user(), "alice");
  EXPECT_EQ(out.from().device(), "phone");
  EXPECT_EQ(out.from().group(), "");
  EXPECT_EQ(out.to().user(), "bob");
  EXPECT_EQ(out.payload(), "payload-bytes");
  EXPECT_EQ(out.timestamp(), 555);
  EXPECT_EQ(out.expiry(), 30u);
  EXPECT_EQ(out.priority(), 2u);
  EXPECT_EQ(out.type(), 9u);
  EXPECT_EQ(out.encryption_type(), "AES256");
  EXPECT_EQ(out.encrypted(), "ZW5j");
  EXPECT_EQ(out.signature(), "c2ln");
  EXPECT_EQ(out.signal_offset(), 0);
  EXPECT_EQ(out.user_offset(), 0);
  EXPECT_EQ(out.signal_type(), 0);
  EXPECT_EQ(out.signal_request(), 0);
  EXPECT_EQ(out.server_timestamp(), kNow);
  EXPECT_FALSE(out.signal_ack_state().received());
  EXPECT_FALSE(out.signal_ack_state().read());
}

TEST_F(EngineTest, UnknownFieldsAreNeitherStoredNorRelayed) {
  Message m = Msg("m1", "bob", "payload-bytes");
  // Past max_payload_bytes (64 KiB) if it were kept, and unknown fields in
  // every sub-message.
  m.GetReflection()->MutableUnknownFields(&m)->AddLengthDelimited(99, std::string(100000, 'x'));
  m.mutable_to()->GetReflection()->MutableUnknownFields(m.mutable_to())->AddGroup(7)->AddVarint(1, 5);
  m.mutable_from()->GetReflection()->MutableUnknownFields(m.mutable_from())->AddVarint(9, 1);
  m.mutable_signal_ack_state()->GetReflection()->MutableUnknownFields(m.mutable_signal_ack_state())->AddFixed32(9, 1);
  AppendRequest req = AppendOf(m);
  const Message& out = req.message;
  EXPECT_TRUE(out.GetReflection()->GetUnknownFields(out).empty());
  EXPECT_TRUE(out.to().GetReflection()->GetUnknownFields(out.to()).empty());
  EXPECT_TRUE(out.from().GetReflection()->GetUnknownFields(out.from()).empty());
  EXPECT_TRUE(out.signal_ack_state().GetReflection()->GetUnknownFields(out.signal_ack_state()).empty());
  EXPECT_EQ(out.payload(), "payload-bytes");
  EXPECT_LT(out.ByteSizeLong(), 1000u);

  Message t = m;
  t.set_transient(true);
  Decision d = Send(t);
  ASSERT_FALSE(d.publish.empty());
  Message relayed = AsMessage(d.publish[0]);
  EXPECT_EQ(relayed.id(), "m1");
  EXPECT_TRUE(relayed.GetReflection()->GetUnknownFields(relayed).empty());
  EXPECT_TRUE(relayed.to().GetReflection()->GetUnknownFields(relayed.to()).empty());
}

TEST_F(EngineTest, SendToYourselfHasNoReceivers) {
  AppendRequest req = AppendOf(Msg("m1", "alice"));
  EXPECT_EQ(req.sender, "alice");
  EXPECT_TRUE(req.receivers.empty());
  EXPECT_FALSE(req.conversation.empty());
  EXPECT_EQ(req.message.to().user(), "alice");
}

TEST_F(EngineTest, ConversationKeyIsTheSameFromBothSides) {
  const std::string ab = AppendOf(Msg("m1", "bob"), "alice", "phone").conversation;
  const std::string ba = AppendOf(Msg("m2", "alice"), "bob", "laptop").conversation;
  const std::string ac = AppendOf(Msg("m3", "carol"), "alice", "phone").conversation;
  const std::string aa = AppendOf(Msg("m4", "alice"), "alice", "phone").conversation;
  const std::string bb = AppendOf(Msg("m5", "bob"), "bob", "phone").conversation;
  EXPECT_EQ(ab, ba);
  EXPECT_NE(ab, ac);
  EXPECT_NE(ab, aa);
  EXPECT_NE(aa, bb);
  // Names that concatenate alike are still different conversations.
  EXPECT_NE(AppendOf(Msg("m6", "bc"), "a", "d").conversation, AppendOf(Msg("m7", "c"), "ab", "d").conversation);
}

TEST_F(EngineTest, SendRejectionsGoToThePublishingDevice) {
  CoreOptions o;
  ExpectRejected(Send(Msg("", "bob")), "missing_id", "");
  ExpectRejected(Send(Msg(std::string(o.max_id_bytes + 1, 'i'), "bob")), "id_too_long",
                 std::string(o.max_id_bytes + 1, 'i'));
  EXPECT_EQ(Send(Msg(std::string(o.max_id_bytes, 'i'), "bob")).requests.size(), 1u);
  ExpectRejected(Send(Msg("m1", "")), "missing_recipient", "m1");
  ExpectRejected(Send(Msg("m1", "b/ob")), "invalid_recipient", "m1");
  ExpectRejected(Send(Msg("m1", "+")), "invalid_recipient", "m1");
  ExpectRejected(Send(Msg("m1", "bob", std::string(o.max_payload_bytes + 1, 'x'))), "payload_too_large", "m1");
  EXPECT_EQ(Send(Msg("m1", "bob", std::string(o.max_payload_bytes, 'x'))).requests.size(), 1u);
  Message g = Msg("m1", "");
  g.mutable_to()->set_group("fr+iends");
  ExpectRejected(Send(g), "invalid_recipient", "m1");
  Message p = Msg("m1", "bob");
  p.set_priority(16);
  ExpectRejected(Send(p), "invalid_priority", "m1");
  // From another device, the error goes to that device.
  ExpectRejected(Send(Msg("", "bob"), "alice", "tablet"), "missing_id", "", "msg/alice/devices/tablet/events");
}

TEST_F(EngineTest, GarbageIsBadPayload) {
  for (const std::string& garbage : {std::string("\xff\xff\xff\xff", 4), std::string("\x0a\x05" "ab", 4),
                                    std::string("\x0f", 1), std::string("\x08", 1)}) {
    ExpectRejected(Publish("msg/alice/send", garbage), "bad_payload", "");
    ExpectRejected(Publish("msg/alice/signal", garbage), "bad_payload", "");
  }
}

TEST_F(EngineTest, PublishingToAnotherUsersTopicIsNotAuthorized) {
  ExpectRejected(Publish("msg/bob/send", Msg("m1", "carol").SerializeAsString()), "not_authorized", "");
  ExpectRejected(Publish("msg/bob/signal", courier::testing::Receipt("m1", 1, true).SerializeAsString()),
                 "not_authorized", "");
  ExpectRejected(Publish("msg/bob/send", "garbage\xff"), "not_authorized", "");
}

TEST_F(EngineTest, TopicsOutsidePrefixAreNotConsumed) {
  for (const char* topic : {"other/alice/send", "alice/send", "msgs/alice/send", "msg", "$SYS/x", "/msg/alice/send"}) {
    Decision d = Publish(topic, Msg("m1", "bob").SerializeAsString());
    EXPECT_FALSE(d.consumed) << topic;
    EXPECT_TRUE(d.publish.empty()) << topic;
    EXPECT_TRUE(d.requests.empty()) << topic;
  }
}

TEST_F(EngineTest, OtherTopicsBelowPrefixAreDroppedSilently) {
  for (const char* topic : {"msg/alice/inbox", "msg/alice/events", "msg/alice/devices/phone/inbox", "msg/bob/inbox",
                            "msg/alice", "msg//send", "msg/alice/send/x"}) {
    Decision d = Publish(topic, Msg("m1", "bob").SerializeAsString());
    EXPECT_TRUE(d.consumed) << topic;
    EXPECT_TRUE(d.publish.empty()) << topic;
    EXPECT_TRUE(d.requests.empty()) << topic;
  }
}

TEST_F(EngineTest, InvalidPublisherNamesAreDroppedSilently) {
  // No topic of Courier's can reach such a client, so there is nowhere to answer.
  for (const auto& [user, client] : {std::pair<std::string, std::string>{"a+b", "phone"}, {"alice", ""},
                                     {"alice", "ph#one"}, {std::string(129, 'a'), "phone"}}) {
    Decision d = Publish("msg/" + user + "/send", Msg("m1", "bob").SerializeAsString(), user, client);
    EXPECT_TRUE(d.consumed) << user << "/" << client;
    EXPECT_TRUE(d.publish.empty()) << user << "/" << client;
    EXPECT_TRUE(d.requests.empty()) << user << "/" << client;
  }
}

// ---------------------------------------------------------------- signals

TEST_F(EngineTest, SignalRejectionsGoToThePublishingDevice) {
  ExpectRejected(SendSignal(Signal{}), "bad_signal", "");
  Signal s;
  s.set_id("x1");
  ExpectRejected(SendSignal(s), "bad_signal", "x1");
  ExpectRejected(SendSignal(courier::testing::Activity("bob", 9)), "invalid_status", "");
  ExpectRejected(SendSignal(courier::testing::Activity("", 4)), "missing_recipient", "");
  ExpectRejected(SendSignal(courier::testing::Activity("b/ob", 4)), "invalid_recipient", "");
  Signal g = courier::testing::Activity("", 4);
  g.mutable_to()->set_group("fri/ends");
  ExpectRejected(SendSignal(g), "invalid_recipient", "");
  ExpectRejected(SendSignal(courier::testing::Receipt("m1", 0, true)), "unknown_offset", "m1");
  ExpectRejected(SendSignal(courier::testing::PullSignal("p1", -2, 10)), "bad_signal", "p1");
}

TEST_F(EngineTest, ActivityIsForwardedAtOnceAsTheAuthenticatedUser) {
  Signal a = courier::testing::Activity("bob", 4);  // TYPING
  *a.mutable_from() = Ident("mallory", "evil");
  a.set_signal_offset(12);
  a.set_user_offset(13);
  Decision d = SendSignal(a);
  EXPECT_TRUE(d.consumed);
  EXPECT_TRUE(d.requests.empty());
  ASSERT_EQ(d.publish.size(), 1u);
  EXPECT_EQ(d.publish[0].topic, "msg/bob/events");
  Signal out = AsSignal(d.publish[0]);
  EXPECT_EQ(out.status(), 4);
  EXPECT_EQ(out.from().user(), "alice");
  EXPECT_EQ(out.from().device(), "phone");
  EXPECT_EQ(out.to().user(), "bob");
  EXPECT_EQ(out.signal_offset(), 0);
  EXPECT_EQ(out.user_offset(), 0);
  EXPECT_FALSE(out.has_error());
  EXPECT_EQ(out.timestamp(), kNow);  // no client timestamp: the server's

  a.set_timestamp(1234);
  d = SendSignal(a);
  ASSERT_EQ(d.publish.size(), 1u);
  EXPECT_EQ(AsSignal(d.publish[0]).timestamp(), 1234);
}

TEST_F(EngineTest, ReceiptBecomesAReceiptRequest) {
  Decision d = SendSignal(courier::testing::Receipt("m1", 5, false), "bob", "laptop");
  EXPECT_TRUE(d.consumed);
  EXPECT_TRUE(d.publish.empty());
  ASSERT_EQ(d.requests.size(), 1u);
  auto* r = std::get_if<ReceiptRequest>(&d.requests[0]);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(ReplyOf(*r).id, "m1");
  EXPECT_EQ(r->user, "bob");
  EXPECT_EQ(r->device, "laptop");
  EXPECT_EQ(r->offset, 5);
  EXPECT_TRUE(r->received);
  EXPECT_FALSE(r->read);
}

TEST_F(EngineTest, ReadImpliesReceived) {
  Decision d = SendSignal(courier::testing::Receipt("m1", 3, true), "bob", "laptop");
  ASSERT_EQ(d.requests.size(), 1u);
  auto* r = std::get_if<ReceiptRequest>(&d.requests[0]);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->offset, 3);
  EXPECT_TRUE(r->received);
  EXPECT_TRUE(r->read);
}

TEST_F(EngineTest, ReceiptWithPullAlsoPullsTheNextEntry) {
  Signal s = courier::testing::Receipt("m1", 4, false);
  s.set_signal_request(1);
  Decision d = SendSignal(s, "bob", "laptop");
  EXPECT_TRUE(d.publish.empty());
  ASSERT_EQ(d.requests.size(), 2u);
  auto* r = std::get_if<ReceiptRequest>(&d.requests[0]);
  auto* p = std::get_if<PullRequest>(&d.requests[1]);
  ASSERT_NE(r, nullptr);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(r->offset, 4);
  EXPECT_EQ(ReplyOf(*p).id, "m1");
  EXPECT_EQ(p->user, "bob");
  EXPECT_EQ(p->device, "laptop");
  EXPECT_EQ(p->after, 4);
  EXPECT_EQ(p->limit, 1u);

  s.set_limit(3);
  d = SendSignal(s, "bob", "laptop");
  ASSERT_EQ(d.requests.size(), 2u);
  EXPECT_EQ(std::get<PullRequest>(d.requests[1]).limit, 3u);
  s.set_limit(1'000'000);
  d = SendSignal(s, "bob", "laptop");
  ASSERT_EQ(d.requests.size(), 2u);
  EXPECT_EQ(std::get<PullRequest>(d.requests[1]).limit, CoreOptions{}.max_pull_limit);
}

TEST_F(EngineTest, PullLimits) {
  auto pull = [&](int32_t after, uint32_t limit) -> PullRequest {
    Decision d = SendSignal(courier::testing::PullSignal("p1", after, limit), "bob", "laptop");
    EXPECT_TRUE(d.consumed);
    EXPECT_TRUE(d.publish.empty());
    EXPECT_EQ(d.requests.size(), 1u);
    if (d.requests.size() != 1 || !std::holds_alternative<PullRequest>(d.requests[0])) return {};
    return std::get<PullRequest>(d.requests[0]);
  };
  const CoreOptions o;
  PullRequest p = pull(7, 25);
  EXPECT_EQ(ReplyOf(p).id, "p1");
  EXPECT_EQ(p.user, "bob");
  EXPECT_EQ(p.device, "laptop");
  EXPECT_EQ(p.after, 7);
  EXPECT_EQ(p.limit, 25u);
  EXPECT_EQ(pull(0, 0).limit, o.default_pull_limit);
  EXPECT_EQ(pull(0, o.max_pull_limit).limit, o.max_pull_limit);
  EXPECT_EQ(pull(0, o.max_pull_limit + 1).limit, o.max_pull_limit);
  EXPECT_EQ(pull(0, 4'000'000'000u).limit, o.max_pull_limit);
  EXPECT_EQ(pull(0, 1).limit, 1u);
  EXPECT_EQ(pull(-1, 10).after, -1);
  EXPECT_EQ(pull(0, 10).after, 0);
  ExpectRejected(SendSignal(courier::testing::PullSignal("p1", -2, 10)), "bad_signal", "p1");
}

TEST(EngineOptions, PullLimitsFollowOptions) {
  CoreOptions o;
  o.default_pull_limit = 7;
  o.max_pull_limit = 20;
  Engine engine(o);
  auto limit = [&](uint32_t asked) {
    std::string payload = courier::testing::PullSignal("p", 0, asked).SerializeAsString();
    Decision d = engine.OnPublish(
        Inbound{.topic = "msg/bob/signal", .payload = payload, .user = "bob", .client_id = "l", .now_ms = kNow});
    EXPECT_EQ(d.requests.size(), 1u);
    return d.requests.empty() ? 0u : std::get<PullRequest>(d.requests[0]).limit;
  };
  EXPECT_EQ(limit(0), 7u);
  EXPECT_EQ(limit(5), 5u);
  EXPECT_EQ(limit(20), 20u);
  EXPECT_EQ(limit(21), 20u);
}

TEST_F(EngineTest, PushAsksForTheHead) {
  Signal s;
  s.set_id("push1");
  s.set_type(1);
  s.set_signal_request(2);
  Decision d = SendSignal(s, "bob", "laptop");
  ASSERT_EQ(d.requests.size(), 1u);
  auto* p = std::get_if<PullRequest>(&d.requests[0]);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(ReplyOf(*p).id, "push1");
  EXPECT_EQ(p->limit, 0u);
}

TEST(EnginePrefix, MultiLevelPrefix) {
  CoreOptions o;
  o.topic_prefix = "a/b";
  Engine engine(o);
  std::string payload = Msg("m1", "bob").SerializeAsString();
  Decision d = engine.OnPublish(
      Inbound{.topic = "a/b/alice/send", .payload = payload, .user = "alice", .client_id = "phone", .now_ms = 1});
  EXPECT_TRUE(d.consumed);
  EXPECT_EQ(d.requests.size(), 1u);
  d = engine.OnPublish(
      Inbound{.topic = "msg/alice/send", .payload = payload, .user = "alice", .client_id = "phone", .now_ms = 1});
  EXPECT_FALSE(d.consumed);
  std::string bad = Msg("", "bob").SerializeAsString();
  d = engine.OnPublish(
      Inbound{.topic = "a/b/alice/send", .payload = bad, .user = "alice", .client_id = "phone", .now_ms = 1});
  ExpectRejected(d, "missing_id", "", "a/b/alice/devices/phone/events");
}

// ---------------------------------------------------------------- completions

// What the store would return for `req`: alice's copy at `sender_offset`,
// the receiver's at `receiver_offset`, both at `user_offset`.
AppendResult Stored(const AppendRequest& req, int32_t sender_offset, int32_t receiver_offset, int32_t user_offset) {
  AppendResult res;
  res.device_copy = req.message;
  res.device_copy.set_signal_offset(sender_offset);
  res.device_copy.set_user_offset(user_offset);
  res.device_copy.set_signal_type(2);
  for (const auto& u : req.receivers) {
    Message copy = req.message;
    copy.set_signal_offset(receiver_offset);
    copy.set_user_offset(user_offset);
    copy.set_signal_type(3);
    res.receivers.push_back(u);
    res.receiver_copies.push_back(copy);
  }
  return res;
}

const ::courier::core::Publish* Find(const std::vector<Publish>& out, std::string_view topic) {
  const ::courier::core::Publish* found = nullptr;
  for (const auto& p : out) {
    if (p.topic == topic) {
      EXPECT_EQ(found, nullptr) << "two publishes on " << topic;
      found = &p;
    }
  }
  return found;
}

void ExpectSenderAck(const Signal& ack, std::string_view id, int32_t offset, int32_t user_offset) {
  EXPECT_EQ(ack.id(), id);
  EXPECT_EQ(ack.type(), 2);         // RESPONSE
  EXPECT_EQ(ack.signal_type(), 1);  // SENDER
  EXPECT_EQ(ack.signal_offset(), offset);
  EXPECT_EQ(ack.user_offset(), user_offset);
  EXPECT_TRUE(ack.signal_offset_state());
  EXPECT_TRUE(ack.signal_ack_state().send());
  EXPECT_FALSE(ack.has_error());
}

TEST_F(EngineTest, NewAppendDeliversCopiesAndAcks) {
  AppendRequest req = AppendOf(Msg("m1", "bob", "hi"));
  auto out = engine_.OnCompletion(Completion{req, Status::Ok(), Stored(req, 3, 7, 2)});
  EXPECT_EQ(out.size(), 3u) << ::testing::PrintToString(TopicsOf(out));

  const ::courier::core::Publish* receiver = Find(out, "msg/bob/inbox");
  ASSERT_NE(receiver, nullptr);
  Message r = AsMessage(*receiver);
  EXPECT_EQ(r.id(), "m1");
  EXPECT_EQ(r.signal_type(), 3);
  EXPECT_EQ(r.signal_offset(), 7);
  EXPECT_EQ(r.user_offset(), 2);
  EXPECT_EQ(r.from().user(), "alice");
  EXPECT_EQ(r.from().device(), "phone");
  EXPECT_EQ(r.payload(), "hi");
  EXPECT_EQ(r.server_timestamp(), kNow);

  const ::courier::core::Publish* device = Find(out, "msg/alice/inbox");
  ASSERT_NE(device, nullptr);
  Message dc = AsMessage(*device);
  EXPECT_EQ(dc.id(), "m1");
  EXPECT_EQ(dc.signal_type(), 2);
  EXPECT_EQ(dc.signal_offset(), 3);
  EXPECT_EQ(dc.user_offset(), 2);

  const ::courier::core::Publish* ack = Find(out, "msg/alice/events");
  ASSERT_NE(ack, nullptr);
  ExpectSenderAck(AsSignal(*ack), "m1", 3, 2);
}

TEST_F(EngineTest, NewAppendToYourself) {
  AppendRequest req = AppendOf(Msg("m1", "alice"));
  auto out = engine_.OnCompletion(Completion{req, Status::Ok(), Stored(req, 4, 0, 1)});
  EXPECT_EQ(out.size(), 2u) << ::testing::PrintToString(TopicsOf(out));
  const ::courier::core::Publish* device = Find(out, "msg/alice/inbox");
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(AsMessage(*device).signal_offset(), 4);
  const ::courier::core::Publish* ack = Find(out, "msg/alice/events");
  ASSERT_NE(ack, nullptr);
  ExpectSenderAck(AsSignal(*ack), "m1", 4, 1);
}

TEST_F(EngineTest, DuplicateWithSameContentOnlyAcksWithOriginalOffsets) {
  AppendRequest first = AppendOf(Msg("m1", "bob", "hi"));
  AppendResult original = Stored(first, 3, 7, 2);

  // A retry, later, from another device of the same user.
  Message retry = Msg("m1", "bob", "hi");
  retry.set_timestamp(99999);
  AppendRequest again = AppendOf(retry, "alice", "tablet");
  AppendResult dup;
  dup.duplicate = true;
  dup.device_copy = original.device_copy;
  auto out = engine_.OnCompletion(Completion{again, Status::Ok(), dup});
  ASSERT_EQ(out.size(), 1u) << ::testing::PrintToString(TopicsOf(out));
  EXPECT_EQ(out[0].topic, "msg/alice/events");
  ExpectSenderAck(AsSignal(out[0]), "m1", 3, 2);
}

TEST_F(EngineTest, DuplicateWithDifferentContentIsIdConflict) {
  AppendRequest first = AppendOf(Msg("m1", "bob", "hi"));
  AppendResult dup;
  dup.duplicate = true;
  dup.device_copy = Stored(first, 3, 7, 2).device_copy;

  for (const Message& other : {Msg("m1", "bob", "changed"), Msg("m1", "carol", "hi")}) {
    AppendRequest again = AppendOf(other, "alice", "tablet");
    auto out = engine_.OnCompletion(Completion{again, Status::Ok(), dup});
    Decision as_decision{.consumed = true, .publish = out, .requests = {}};
    ExpectRejected(as_decision, "id_conflict", "m1", "msg/alice/devices/tablet/events");
  }
}

TEST_F(EngineTest, StoreFailuresOfAnAppend) {
  AppendRequest req = AppendOf(Msg("m1", "bob"));
  struct Case {
    Status status;
    const char* code;
    bool transient;
  } cases[] = {
      {Status::Full("map is full"), "store_full", true},
      {Status::IoError("disk"), "store_unavailable", true},
      {Status::Corruption("bad"), "store_unavailable", true},
      {Status::Invalid("bug"), "internal", false},
  };
  for (const auto& c : cases) {
    auto out = engine_.OnCompletion(Completion{req, c.status, std::monostate{}});
    ASSERT_EQ(out.size(), 1u) << c.code;
    EXPECT_EQ(out[0].topic, "msg/alice/devices/phone/events") << c.code;
    if (c.transient) {
      ExpectTransient(AsSignal(out[0]), c.code, "m1");
    } else {
      ExpectRejected(Decision{.consumed = true, .publish = out, .requests = {}}, c.code, "m1");
    }
  }
}

TEST_F(EngineTest, StoreFailuresOfReceiptsAndPulls) {
  ReceiptRequest receipt{.user = "bob", .device = "laptop", .offset = 5, .received = true, .read = false,
                         .reply = MakeReply(SignalReply{"m9"})};
  PullRequest pull{.user = "bob", .device = "laptop", .after = 0, .limit = 10, .reply = MakeReply(SignalReply{"p9"})};

  auto out = engine_.OnCompletion(Completion{receipt, Status::NotFound("no entry at offset 5"), std::monostate{}});
  ExpectRejected(Decision{.consumed = true, .publish = out, .requests = {}}, "unknown_offset", "m9",
                 "msg/bob/devices/laptop/events");

  out = engine_.OnCompletion(Completion{receipt, Status::Full("full"), std::monostate{}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "msg/bob/devices/laptop/events");
  ExpectTransient(AsSignal(out[0]), "store_full", "m9");

  out = engine_.OnCompletion(Completion{pull, Status::IoError("disk"), std::monostate{}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "msg/bob/devices/laptop/events");
  ExpectTransient(AsSignal(out[0]), "store_unavailable", "p9");
}

// bob's RECEIVER copy at `offset` of a message alice sent from her phone,
// and alice's DEVICE copy at `peer_offset`, both with `state`.
ReceiptResult ReceiptStored(int32_t offset, int32_t peer_offset, bool read) {
  ReceiptResult res;
  res.changed = true;
  Message m = Msg("m1", "bob");
  *m.mutable_from() = Ident("alice", "phone");
  m.set_user_offset(2);
  m.mutable_signal_ack_state()->set_send(true);
  m.mutable_signal_ack_state()->set_received(true);
  m.mutable_signal_ack_state()->set_read(read);
  res.entry = m;
  res.entry.set_signal_offset(offset);
  res.entry.set_signal_type(3);
  res.peer_user = "alice";
  res.peer = m;
  res.peer->set_signal_offset(peer_offset);
  res.peer->set_signal_type(2);
  return res;
}

TEST_F(EngineTest, ChangedReceiptNotifiesSenderAndReadersDevices) {
  ReceiptRequest req{.user = "bob", .device = "laptop", .offset = 7, .received = true, .read = true,
                     .reply = MakeReply(SignalReply{"m1"})};
  auto out = engine_.OnCompletion(Completion{req, Status::Ok(), ReceiptStored(7, 3, true)});
  EXPECT_EQ(out.size(), 2u) << ::testing::PrintToString(TopicsOf(out));

  const ::courier::core::Publish* to_sender = Find(out, "msg/alice/events");
  ASSERT_NE(to_sender, nullptr);
  Signal s = AsSignal(*to_sender);
  EXPECT_EQ(s.id(), "m1");
  EXPECT_EQ(s.signal_type(), 3);  // RECEIVER
  EXPECT_EQ(s.type(), 2);
  EXPECT_EQ(s.signal_offset(), 3);  // the sender-side offset
  EXPECT_EQ(s.user_offset(), 2);
  EXPECT_TRUE(s.signal_offset_state());
  EXPECT_TRUE(s.signal_ack_state().received());
  EXPECT_TRUE(s.signal_ack_state().read());
  EXPECT_EQ(s.from().user(), "bob");
  EXPECT_EQ(s.from().device(), "laptop");
  EXPECT_FALSE(s.has_error());

  const ::courier::core::Publish* to_reader = Find(out, "msg/bob/events");
  ASSERT_NE(to_reader, nullptr);
  Signal d = AsSignal(*to_reader);
  EXPECT_EQ(d.id(), "m1");
  EXPECT_EQ(d.signal_type(), 2);  // DEVICE
  EXPECT_EQ(d.signal_offset(), 7);  // the reader's own offset
  EXPECT_EQ(d.user_offset(), 2);
  EXPECT_TRUE(d.signal_ack_state().received());
  EXPECT_TRUE(d.signal_ack_state().read());
  EXPECT_EQ(d.from().user(), "bob");
  EXPECT_EQ(d.from().device(), "laptop");
}

TEST_F(EngineTest, ReceivedOnlyReceiptCarriesReceivedState) {
  ReceiptRequest req{.user = "bob", .device = "laptop", .offset = 7, .received = true, .read = false,
                     .reply = MakeReply(SignalReply{"m1"})};
  auto out = engine_.OnCompletion(Completion{req, Status::Ok(), ReceiptStored(7, 3, false)});
  const ::courier::core::Publish* to_sender = Find(out, "msg/alice/events");
  ASSERT_NE(to_sender, nullptr);
  Signal s = AsSignal(*to_sender);
  EXPECT_TRUE(s.signal_ack_state().received());
  EXPECT_FALSE(s.signal_ack_state().read());
}

TEST_F(EngineTest, UnchangedReceiptSaysNothing) {
  ReceiptRequest req{.user = "bob", .device = "laptop", .offset = 7, .received = true, .read = true,
                     .reply = MakeReply(SignalReply{"m1"})};
  ReceiptResult res = ReceiptStored(7, 3, true);
  res.changed = false;
  EXPECT_TRUE(engine_.OnCompletion(Completion{req, Status::Ok(), res}).empty());
}

TEST_F(EngineTest, PullDeliversEntriesThenTheResponse) {
  PullRequest req{.user = "bob", .device = "laptop", .after = 2, .limit = 10, .reply = MakeReply(SignalReply{"p1"})};
  PullResult res;
  res.head = 9;
  for (int32_t off : {3, 4, 5}) {
    Message m = Msg("m" + std::to_string(off), "bob");
    m.set_signal_offset(off);
    m.set_signal_type(3);
    res.entries.push_back(m);
  }
  auto out = engine_.OnCompletion(Completion{req, Status::Ok(), res});
  ASSERT_EQ(out.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(out[i].topic, "msg/bob/devices/laptop/inbox");
    Message m = AsMessage(out[i]);
    EXPECT_EQ(m.signal_offset(), 3 + i);  // oldest first
    EXPECT_EQ(m.id(), "m" + std::to_string(3 + i));
    EXPECT_EQ(m.signal_request(), 1);
  }
  EXPECT_EQ(out[3].topic, "msg/bob/devices/laptop/events");
  Signal r = AsSignal(out[3]);
  EXPECT_EQ(r.id(), "p1");
  EXPECT_EQ(r.type(), 2);
  EXPECT_EQ(r.signal_request(), 1);
  EXPECT_EQ(r.signal_offset(), 9);  // head
  EXPECT_EQ(r.limit(), 3u);         // count sent
  EXPECT_FALSE(r.has_error());
}

TEST_F(EngineTest, EmptyPullOnlyResponds) {
  PullRequest req{.user = "bob", .device = "laptop", .after = 9, .limit = 10, .reply = MakeReply(SignalReply{"p1"})};
  PullResult res;
  res.head = 9;
  auto out = engine_.OnCompletion(Completion{req, Status::Ok(), res});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "msg/bob/devices/laptop/events");
  Signal r = AsSignal(out[0]);
  EXPECT_EQ(r.signal_offset(), 9);
  EXPECT_EQ(r.limit(), 0u);
}

}  // namespace
}  // namespace courier::core

namespace courier::core {
namespace {

TEST_F(EngineTest, RateLimitedPublishIsATransientErrorAndStoresNothing) {
  for (const bool is_send : {true, false}) {
    std::string payload = is_send ? Msg("m9", "bob").SerializeAsString()
                                  : courier::testing::Receipt("r9", 1, false).SerializeAsString();
    Decision d = engine_.OnPublish(Inbound{.topic = is_send ? "msg/alice/send" : "msg/alice/signal",
                                           .payload = payload,
                                           .user = "alice",
                                           .client_id = "phone",
                                           .now_ms = kNow,
                                           .rate_limited = true});
    EXPECT_TRUE(d.consumed);
    EXPECT_TRUE(d.requests.empty());
    ASSERT_EQ(d.publish.size(), 1u);
    EXPECT_EQ(d.publish[0].topic, "msg/alice/devices/phone/events");
    Signal s = AsSignal(d.publish[0]);
    EXPECT_EQ(s.id(), is_send ? "m9" : "r9");
    EXPECT_EQ(s.type(), 2);
    EXPECT_FALSE(s.signal_offset_state());
    EXPECT_EQ(s.error().rfind("rate_limited: ", 0), 0u) << s.error();
  }
}

TEST_F(EngineTest, QuotaLimitIsPassedToTheStoreAndItsRefusalIsTransient) {
  CoreOptions o;
  o.max_undelivered = 7;
  Engine e(o);
  Message m = Msg("m1", "bob");
  Decision d = e.OnPublish(Inbound{.topic = "msg/alice/send", .payload = m.SerializeAsString(), .user = "alice",
                                   .client_id = "phone", .now_ms = kNow});
  ASSERT_EQ(d.requests.size(), 1u);
  auto req = std::get<AppendRequest>(d.requests[0]);
  EXPECT_EQ(req.max_undelivered, 7u);
  auto out = e.OnCompletion(storage::Completion{req, Status::Limit("bob has 7 undelivered entries"), {}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "msg/alice/devices/phone/events");
  Signal s = AsSignal(out[0]);
  EXPECT_EQ(s.type(), 2);
  EXPECT_EQ(s.error().rfind("quota_exceeded: ", 0), 0u) << s.error();
}

// Stored copies and pull answers go at delivery_qos; the ack is always QoS 0.
TEST(EngineDeliveryQos, StoredCopiesFollowTheOption) {
  for (int qos : {0, 1}) {
    SCOPED_TRACE(qos);
    CoreOptions options;
    options.delivery_qos = qos;
    Engine engine(options);
    AppendRequest req;
    req.sender = "alice";
    req.receivers = {"bob"};
    req.message.set_id("m1");
    AppendResult res;
    res.device_copy = req.message;
    res.device_copy.set_signal_type(2);
    res.receivers = {"bob"};
    res.receiver_copies = {req.message};
    auto out = engine.OnCompletion(Completion{req, Status::Ok(), res});
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(Find(out, "msg/bob/inbox")->qos, qos);
    EXPECT_EQ(Find(out, "msg/alice/inbox")->qos, qos);
    EXPECT_EQ(Find(out, "msg/alice/events")->qos, 0);

    PullRequest pull;
    pull.user = "bob";
    pull.device = "phone";
    PullResult pulled;
    pulled.head = 1;
    pulled.entries = {req.message};
    out = engine.OnCompletion(Completion{pull, Status::Ok(), pulled});
    ASSERT_EQ(out.size(), 2u);
    for (const auto& p : out) EXPECT_EQ(p.qos, qos) << p.topic;  // the response cannot overtake the entries
  }
}

}  // namespace
}  // namespace courier::core
