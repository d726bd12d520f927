// Engine: activity, receipts, PULL and PUSH signals (engine_fixture.h).
#include <string>
#include <vector>

#include "engine_fixture.h"

namespace courier::core {
namespace {

using namespace engine_testing;

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

}  // namespace
}  // namespace courier::core
