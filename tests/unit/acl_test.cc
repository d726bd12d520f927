#include "acl.h"

#include <gtest/gtest.h>

#include <string>

namespace courier::core {
namespace {

constexpr Access kAllAccess[] = {Access::kRead, Access::kWrite, Access::kSubscribe, Access::kUnsubscribe};

const char* Name(Access a) {
  switch (a) {
    case Access::kRead: return "read";
    case Access::kWrite: return "write";
    case Access::kSubscribe: return "subscribe";
    case Access::kUnsubscribe: return "unsubscribe";
  }
  return "?";
}

const char* Name(Verdict v) {
  switch (v) {
    case Verdict::kAllow: return "allow";
    case Verdict::kDeny: return "deny";
    case Verdict::kDefer: return "defer";
  }
  return "?";
}

class AclTest : public ::testing::Test {
 protected:
  Verdict Check(std::string_view user, std::string_view client, std::string_view topic, Access a) const {
    return CheckAccess(topics_, options_, user, client, topic, a);
  }
  // Expects read / write / subscribe verdicts of alice's "phone" on `topic`.
  void ExpectRWS(const std::string& topic, Verdict read, Verdict write, Verdict subscribe) const {
    EXPECT_EQ(Name(Check("alice", "phone", topic, Access::kRead)), std::string(Name(read))) << "read " << topic;
    EXPECT_EQ(Name(Check("alice", "phone", topic, Access::kWrite)), std::string(Name(write))) << "write " << topic;
    EXPECT_EQ(Name(Check("alice", "phone", topic, Access::kSubscribe)), std::string(Name(subscribe)))
        << "subscribe " << topic;
    EXPECT_EQ(Name(Check("alice", "phone", topic, Access::kUnsubscribe)), std::string(Name(Verdict::kAllow)))
        << "unsubscribe " << topic;
  }

  CoreOptions options_;
  Topics topics_{"msg"};
};

constexpr Verdict A = Verdict::kAllow;
constexpr Verdict D = Verdict::kDeny;

TEST_F(AclTest, OwnSendAndSignalAreWriteOnly) {
  ExpectRWS("msg/alice/send", D, A, D);
  ExpectRWS("msg/alice/signal", D, A, D);
}

TEST_F(AclTest, OwnInboxAndEventsAreReadOnly) {
  ExpectRWS("msg/alice/inbox", A, D, A);
  ExpectRWS("msg/alice/events", A, D, A);
}

TEST_F(AclTest, OwnDeviceTopicsAreReadOnly) {
  ExpectRWS("msg/alice/devices/phone/inbox", A, D, A);
  ExpectRWS("msg/alice/devices/phone/events", A, D, A);
}

TEST_F(AclTest, OtherDevicesOfTheSameUserAreRefused) {
  ExpectRWS("msg/alice/devices/tablet/inbox", D, D, D);
  ExpectRWS("msg/alice/devices/tablet/events", D, D, D);
}

TEST_F(AclTest, OtherUsersTopicsAreRefused) {
  ExpectRWS("msg/bob/send", D, D, D);
  ExpectRWS("msg/bob/signal", D, D, D);
  ExpectRWS("msg/bob/inbox", D, D, D);
  ExpectRWS("msg/bob/events", D, D, D);
  // Even a device with the same client id as ours.
  ExpectRWS("msg/bob/devices/phone/inbox", D, D, D);
  ExpectRWS("msg/bob/devices/phone/events", D, D, D);
  ExpectRWS("msg/bob/devices/tablet/inbox", D, D, D);
  ExpectRWS("msg/bob/devices/tablet/events", D, D, D);
}

TEST_F(AclTest, UnknownTopicsBelowOwnUserAreRefused) {
  ExpectRWS("msg/alice", D, D, D);
  ExpectRWS("msg/alice/other", D, D, D);
  ExpectRWS("msg/alice/send/x", D, D, D);
  ExpectRWS("msg/alice/inbox/x", D, D, D);
  ExpectRWS("msg/alice/devices", D, D, D);
  ExpectRWS("msg/alice/devices/phone", D, D, D);
  ExpectRWS("msg/alice/devices/phone/send", D, D, D);
  ExpectRWS("msg/alice/devices/phone/inbox/x", D, D, D);
  ExpectRWS("msg/alice/", D, D, D);
  ExpectRWS("msg//inbox", D, D, D);
}

TEST_F(AclTest, SubscriptionWildcards) {
  struct Case {
    const char* filter;
    Verdict verdict;
  } cases[] = {
      {"msg/#", D},
      {"msg/+", D},
      {"msg/+/inbox", D},
      {"msg/+/events", D},
      {"msg/+/devices/phone/inbox", D},
      {"msg/+/#", D},
      {"msg/bob/#", D},
      {"msg/alice/#", A},  // reads are still checked per delivered message
      {"msg/alice/devices/+/inbox", D},
      {"msg/alice/devices/+/events", D},
      {"msg/alice/devices/#", D},
      {"msg/alice/devices/+", D},
      {"msg/alice/devices/phone/#", A},
      {"msg/alice/devices/phone/+", A},
      {"msg/alice/devices/tablet/#", D},
      {"msg/alice/devices/tablet/+", D},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Name(Check("alice", "phone", c.filter, Access::kSubscribe)), std::string(Name(c.verdict))) << c.filter;
    EXPECT_EQ(Check("alice", "phone", c.filter, Access::kUnsubscribe), Verdict::kAllow) << c.filter;
  }
}

TEST_F(AclTest, InvalidUserNamesAreRefused) {
  for (const std::string& user : {std::string(""), std::string("al/ice"), std::string("al+ice"), std::string("al#ice"),
                                  std::string("+"), std::string("#"), std::string(129, 'u'), std::string("a\0b", 3)}) {
    // The topic names the user itself, so only the name check can refuse it.
    for (const std::string& topic :
         {"msg/" + user + "/send", "msg/" + user + "/inbox", "msg/" + user + "/devices/phone/inbox"}) {
      EXPECT_EQ(Check(user, "phone", topic, Access::kRead), Verdict::kDeny) << user << " " << topic;
      EXPECT_EQ(Check(user, "phone", topic, Access::kWrite), Verdict::kDeny) << user << " " << topic;
      EXPECT_EQ(Check(user, "phone", topic, Access::kSubscribe), Verdict::kDeny) << user << " " << topic;
      EXPECT_EQ(Check(user, "phone", topic, Access::kUnsubscribe), Verdict::kAllow) << user << " " << topic;
    }
  }
}

TEST_F(AclTest, InvalidClientIdsAreRefused) {
  for (const std::string& client :
       {std::string(""), std::string("ph/one"), std::string("ph+one"), std::string("ph#one"), std::string("+"),
        std::string("#"), std::string(129, 'c'), std::string("a\0b", 3)}) {
    for (const std::string& topic : {std::string("msg/alice/send"), std::string("msg/alice/inbox"),
                                     std::string("msg/alice/events"), "msg/alice/devices/" + client + "/inbox"}) {
      EXPECT_EQ(Check("alice", client, topic, Access::kRead), Verdict::kDeny) << client << " " << topic;
      EXPECT_EQ(Check("alice", client, topic, Access::kWrite), Verdict::kDeny) << client << " " << topic;
      EXPECT_EQ(Check("alice", client, topic, Access::kSubscribe), Verdict::kDeny) << client << " " << topic;
      EXPECT_EQ(Check("alice", client, topic, Access::kUnsubscribe), Verdict::kAllow) << client << " " << topic;
    }
  }
}

TEST_F(AclTest, NameLengthLimitIsInclusive) {
  const std::string user(128, 'u');
  const std::string client(128, 'c');
  EXPECT_EQ(Check(user, client, "msg/" + user + "/send", Access::kWrite), Verdict::kAllow);
  EXPECT_EQ(Check(user, client, "msg/" + user + "/devices/" + client + "/inbox", Access::kRead), Verdict::kAllow);

  options_.max_name_bytes = 5;
  EXPECT_EQ(Check("alice", "phone", "msg/alice/send", Access::kWrite), Verdict::kAllow);
  EXPECT_EQ(Check("alice1", "phone", "msg/alice1/send", Access::kWrite), Verdict::kDeny);
  EXPECT_EQ(Check("alice", "phone1", "msg/alice/send", Access::kWrite), Verdict::kDeny);
}

TEST_F(AclTest, TopicsOutsidePrefixAreDeferred) {
  for (const char* topic : {"other/alice/send", "alice/inbox", "msg", "msgs/alice/inbox", "Msg/alice/inbox",
                            "$SYS/broker/uptime", "#", "+/alice/inbox", "/msg/alice/inbox", ""}) {
    for (Access a : kAllAccess) {
      EXPECT_EQ(Check("alice", "phone", topic, a), Verdict::kDefer) << Name(a) << " " << topic;
      // Even for names Courier would refuse.
      EXPECT_EQ(Check("", "", topic, a), Verdict::kDefer) << Name(a) << " " << topic;
      EXPECT_EQ(Check("a/b", "#", topic, a), Verdict::kDefer) << Name(a) << " " << topic;
    }
  }
}

TEST_F(AclTest, UnsubscribeIsAlwaysAllowedBelowPrefix) {
  for (const char* topic : {"msg/bob/inbox", "msg/#", "msg/alice/devices/tablet/inbox", "msg/+/events"}) {
    EXPECT_EQ(Check("alice", "phone", topic, Access::kUnsubscribe), Verdict::kAllow) << topic;
    EXPECT_EQ(Check("", "", topic, Access::kUnsubscribe), Verdict::kAllow) << topic;
  }
}

TEST(AclPrefix, MultiLevelPrefix) {
  CoreOptions options;
  options.topic_prefix = "a/b";
  Topics topics(options.topic_prefix);
  auto check = [&](std::string_view topic, Access a) {
    return CheckAccess(topics, options, "alice", "phone", topic, a);
  };
  EXPECT_EQ(check("a/b/alice/send", Access::kWrite), Verdict::kAllow);
  EXPECT_EQ(check("a/b/alice/inbox", Access::kRead), Verdict::kAllow);
  EXPECT_EQ(check("a/b/alice/devices/phone/events", Access::kSubscribe), Verdict::kAllow);
  EXPECT_EQ(check("a/b/bob/inbox", Access::kRead), Verdict::kDeny);
  EXPECT_EQ(check("a/b/#", Access::kSubscribe), Verdict::kDeny);
  EXPECT_EQ(check("a/b/alice/#", Access::kSubscribe), Verdict::kAllow);
  // "a" alone is not Courier's: "b" would be read as the user otherwise.
  EXPECT_EQ(check("a/alice/send", Access::kWrite), Verdict::kDefer);
  EXPECT_EQ(check("a/bc/alice/send", Access::kWrite), Verdict::kDefer);
  EXPECT_EQ(check("msg/alice/send", Access::kWrite), Verdict::kDefer);
  EXPECT_EQ(check("a/#", Access::kSubscribe), Verdict::kDefer);
}

}  // namespace
}  // namespace courier::core
