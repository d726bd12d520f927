// Engine: sends and what is rejected before the store (engine_fixture.h).
#include <string>
#include <vector>

#include "engine_fixture.h"

namespace courier::core {
namespace {

using namespace engine_testing;

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
  for (const std::string& garbage : {std::string("\xff\xff\xff\xff", 4),
                                     std::string("\x0a\x05"
                                                 "ab",
                                                 4),
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
  for (const auto& [user, client] : {std::pair<std::string, std::string>{"a+b", "phone"},
                                     {"alice", ""},
                                     {"alice", "ph#one"},
                                     {std::string(129, 'a'), "phone"}}) {
    Decision d = Publish("msg/" + user + "/send", Msg("m1", "bob").SerializeAsString(), user, client);
    EXPECT_TRUE(d.consumed) << user << "/" << client;
    EXPECT_TRUE(d.publish.empty()) << user << "/" << client;
    EXPECT_TRUE(d.requests.empty()) << user << "/" << client;
  }
}

}  // namespace
}  // namespace courier::core
