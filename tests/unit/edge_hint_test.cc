// core/edge_hint.h: hints packed into notifications and back.
#include "edge_hint.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace courier::core {
namespace {

using Kind = EdgeHint::Kind;

EdgeHint Inbox(std::string user, int32_t offset, std::string payload) {
  return {.kind = Kind::kInbox, .user = std::move(user), .offset = offset, .qos = 0, .payload = std::move(payload)};
}

TEST(EdgeHint, RoundTripsEveryKindAndAnyBytes) {
  std::string binary("\0\x01\xff\"\\ x\n", 8);
  std::vector<EdgeHint> hints = {
      Inbox("bob", 7, binary),
      {.kind = Kind::kEvents, .user = "alice smith", .offset = 0, .qos = 1, .payload = "ack"},
      {.kind = Kind::kCatchUp, .user = "carol", .offset = 0, .qos = 0, .payload = ""},
      Inbox("dave", 0, ""),  // a transient copy
  };
  auto out = EncodeHints("edge-a", hints, 7999);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].find('\0'), std::string::npos);
  auto batch = DecodeHints(out[0]);
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->edge, "edge-a");
  EXPECT_EQ(batch->hints, hints);
}

TEST(EdgeHint, SplitsIntoNotificationsUnderTheLimit) {
  std::vector<EdgeHint> hints;
  for (int i = 1; i <= 100; ++i) hints.push_back(Inbox("bob", i, std::string(200, char('a' + i % 26))));
  auto out = EncodeHints("e1", hints, 2000);
  EXPECT_GT(out.size(), 10u);
  std::vector<EdgeHint> back;
  for (const auto& n : out) {
    EXPECT_LE(n.size(), 2000u);
    auto batch = DecodeHints(n);
    ASSERT_TRUE(batch);
    for (auto& h : batch->hints) back.push_back(h);
  }
  EXPECT_EQ(back, hints);
}

TEST(EdgeHint, TooBigStoredCopyBecomesCatchUpOthersAreDropped) {
  std::vector<EdgeHint> hints = {
      Inbox("bob", 9, std::string(9000, 'x')),
      Inbox("bob", 0, std::string(9000, 'x')),  // transient: cannot be caught up
      {.kind = Kind::kEvents, .user = "bob", .offset = 0, .qos = 0, .payload = std::string(9000, 'y')},
      Inbox("bob", 10, "small"),
  };
  size_t dropped = 0;
  auto out = EncodeHints("e1", hints, 7999, &dropped);
  EXPECT_EQ(dropped, 2u);
  ASSERT_EQ(out.size(), 1u);
  auto batch = DecodeHints(out[0]);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->hints.size(), 2u);
  EXPECT_EQ(batch->hints[0].kind, Kind::kCatchUp);
  EXPECT_EQ(batch->hints[0].user, "bob");
  EXPECT_EQ(batch->hints[1], hints[3]);
}

TEST(EdgeHint, NothingToSendIsNoNotification) { EXPECT_TRUE(EncodeHints("e1", {}, 7999).empty()); }

TEST(EdgeHint, MalformedNotificationsDecodeToNothing) {
  const std::string good = EncodeHints("e1", {Inbox("bob", 3, "hi")}, 7999).at(0);
  for (std::string bad : {std::string(""), std::string("hello"), std::string("c1 e1"), std::string("c1 e/1 AAAA"),
                          std::string("c1 e1 !!!!"), std::string("c1 e1 AAA"), good.substr(0, good.size() - 4),
                          std::string("c2") + good.substr(2), std::string("c1 e1 BwAAAAA=")}) {
    EXPECT_FALSE(DecodeHints(bad)) << bad;
  }
}

TEST(EdgeHint, EdgeIds) {
  EXPECT_TRUE(IsValidEdgeId("0123456789abcdef"));
  EXPECT_TRUE(IsValidEdgeId("edge-1.eu_west"));
  EXPECT_FALSE(IsValidEdgeId(""));
  EXPECT_FALSE(IsValidEdgeId("a b"));
  EXPECT_FALSE(IsValidEdgeId(std::string(65, 'a')));
}

}  // namespace
}  // namespace courier::core
