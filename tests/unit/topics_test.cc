#include "topics.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace courier::core {
namespace {

using V = std::vector<std::string_view>;

TEST(IsValidName, AcceptsOrdinaryNames) {
  EXPECT_TRUE(IsValidName("alice", 128));
  EXPECT_TRUE(IsValidName("a", 1));
  EXPECT_TRUE(IsValidName("phone-1.x_y@example.com", 128));
  EXPECT_TRUE(IsValidName("\xc3\xa9l\xc3\xa8ve", 128));  // UTF-8
  EXPECT_TRUE(IsValidName("$weird", 128));
}

TEST(IsValidName, RefusesEmpty) { EXPECT_FALSE(IsValidName("", 128)); }

TEST(IsValidName, LengthLimitIsInclusive) {
  EXPECT_TRUE(IsValidName(std::string(128, 'a'), 128));
  EXPECT_FALSE(IsValidName(std::string(129, 'a'), 128));
  EXPECT_TRUE(IsValidName("abc", 3));
  EXPECT_FALSE(IsValidName("abcd", 3));
}

TEST(IsValidName, RefusesTopicSpecialCharacters) {
  EXPECT_FALSE(IsValidName("a/b", 128));
  EXPECT_FALSE(IsValidName("/", 128));
  EXPECT_FALSE(IsValidName("a+", 128));
  EXPECT_FALSE(IsValidName("+", 128));
  EXPECT_FALSE(IsValidName("#", 128));
  EXPECT_FALSE(IsValidName("x#y", 128));
  EXPECT_FALSE(IsValidName(std::string("a\0b", 3), 128));
  EXPECT_FALSE(IsValidName(std::string("\0", 1), 128));
}

TEST(Topics, ParseInboundSendAndSignal) {
  Topics t("msg");
  auto send = t.ParseInbound("msg/alice/send");
  ASSERT_TRUE(send.has_value());
  EXPECT_EQ(send->user, "alice");
  EXPECT_EQ(send->kind, Topics::Inbound::kSend);

  auto signal = t.ParseInbound("msg/bob/signal");
  ASSERT_TRUE(signal.has_value());
  EXPECT_EQ(signal->user, "bob");
  EXPECT_EQ(signal->kind, Topics::Inbound::kSignal);
}

TEST(Topics, ParseInboundRefusesEverythingElse) {
  Topics t("msg");
  for (const char* topic : {"msg/alice/inbox", "msg/alice/events", "msg/alice/devices/p/inbox",
                            "msg/alice/devices/p/events", "msg/alice/send/x", "msg/alice", "msg/send", "msg//send",
                            "msg/", "msg", "", "other/alice/send", "msgx/alice/send", "ms/alice/send",
                            "/msg/alice/send", "alice/send", "msg/alice/Send", "msg/alice/sendx", "msg/alice/"}) {
    EXPECT_FALSE(t.ParseInbound(topic).has_value()) << topic;
  }
}

V AsVector(const TopicLevels& l) { return V(l.begin(), l.end()); }

TEST(Topics, LevelsBelowPrefix) {
  Topics t("msg");
  auto l = t.Levels("msg/alice/devices/phone/inbox");
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(AsVector(*l), (V{"alice", "devices", "phone", "inbox"}));

  l = t.Levels("msg/alice");
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(AsVector(*l), (V{"alice"}));

  // Empty levels are kept as they are.
  l = t.Levels("msg//x/");
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(AsVector(*l), (V{"", "x", ""}));

  // Wildcards are ordinary levels here.
  l = t.Levels("msg/+/inbox");
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(AsVector(*l), (V{"+", "inbox"}));
  l = t.Levels("msg/#");
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(AsVector(*l), (V{"#"}));
}

// Deeper than what is kept: size() still counts every level, so checks on
// the size refuse it.
TEST(Topics, LevelsDeeperThanCapacity) {
  Topics t("msg");
  auto l = t.Levels("msg/alice/devices/phone/inbox/a/b/c");
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->size(), 7u);
  EXPECT_EQ(AsVector(*l), (V{"alice", "devices", "phone", "inbox", "a", "b"}));
  EXPECT_EQ(l->Rest().size(), 6u);
  EXPECT_EQ(AsVector(l->Rest()), (V{"devices", "phone", "inbox", "a", "b"}));
}

TEST(Topics, LevelsOutsidePrefix) {
  Topics t("msg");
  for (const char* topic : {"msg", "msg/", "msgs/alice/send", "ms", "", "other/msg/alice", "/msg/alice", "Msg/alice",
                            "#", "+/alice/send"}) {
    EXPECT_FALSE(t.Levels(topic).has_value()) << topic;
  }
}

TEST(Topics, Builders) {
  Topics t("msg");
  EXPECT_EQ(t.prefix(), "msg");
  EXPECT_EQ(t.Inbox("alice"), "msg/alice/inbox");
  EXPECT_EQ(t.Events("alice"), "msg/alice/events");
  EXPECT_EQ(t.DeviceInbox("alice", "phone"), "msg/alice/devices/phone/inbox");
  EXPECT_EQ(t.DeviceEvents("alice", "phone"), "msg/alice/devices/phone/events");
}

TEST(Topics, MultiLevelPrefix) {
  Topics t("a/b");
  EXPECT_EQ(t.Inbox("alice"), "a/b/alice/inbox");
  EXPECT_EQ(t.Events("alice"), "a/b/alice/events");
  EXPECT_EQ(t.DeviceInbox("alice", "phone"), "a/b/alice/devices/phone/inbox");
  EXPECT_EQ(t.DeviceEvents("alice", "phone"), "a/b/alice/devices/phone/events");

  auto send = t.ParseInbound("a/b/alice/send");
  ASSERT_TRUE(send.has_value());
  EXPECT_EQ(send->user, "alice");
  EXPECT_EQ(send->kind, Topics::Inbound::kSend);
  auto signal = t.ParseInbound("a/b/bob/signal");
  ASSERT_TRUE(signal.has_value());
  EXPECT_EQ(signal->user, "bob");
  EXPECT_EQ(signal->kind, Topics::Inbound::kSignal);

  // "a" alone, or "a/bc", is not the prefix; "a/b" as a user level is not either.
  EXPECT_FALSE(t.ParseInbound("a/alice/send").has_value());
  EXPECT_FALSE(t.ParseInbound("a/bc/alice/send").has_value());
  EXPECT_FALSE(t.ParseInbound("b/alice/send").has_value());
  EXPECT_FALSE(t.ParseInbound("a/b/send").has_value());
  EXPECT_FALSE(t.Levels("a/b").has_value());
  EXPECT_FALSE(t.Levels("a/b/").has_value());
  EXPECT_FALSE(t.Levels("a/bc/alice").has_value());
  EXPECT_FALSE(t.Levels("a/alice/inbox").has_value());

  auto l = t.Levels("a/b/alice/devices/phone/events");
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(AsVector(*l), (V{"alice", "devices", "phone", "events"}));

  // A builder's output parses back.
  Topics deep("x/y/z");
  const std::string built = deep.DeviceInbox("u", "d");
  auto back = deep.Levels(built);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(AsVector(*back), (V{"u", "devices", "d", "inbox"}));
  EXPECT_TRUE(deep.ParseInbound("x/y/z/u/send").has_value());
  EXPECT_FALSE(deep.ParseInbound("x/y/u/send").has_value());
}

}  // namespace
}  // namespace courier::core
