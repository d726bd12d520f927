// PushQueue (coalescing, retries, giving up) and the gateway call's body,
// idempotency key and HMAC: pure, no HTTP.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "push_body.h"
#include "push_queue.h"

namespace courier::push {
namespace {

storage::PushDue Due(const std::string& user, const std::string& device, int32_t offset, int64_t created_ms = 0) {
  storage::PushDue d;
  d.user = user;
  d.device = device;
  d.offset = offset;
  d.app = "chat";
  d.token = "tok";
  d.id = "m" + std::to_string(offset);
  d.from_user = "alice";
  d.from_device = "phone";
  d.user_offset = offset;
  d.undelivered = offset;
  d.created_ms = created_ms;
  d.payload = "secret text";
  return d;
}

PushPolicy Policy() {
  return PushPolicy{.coalesce_ms = 1000, .max_age_ms = 10000, .backoff_initial_ms = 1000, .backoff_max_ms = 4000};
}

TEST(PushQueue, PushesWithinTheWindowAreOneCall) {
  PushQueue q(Policy());
  for (int i = 1; i <= 20; ++i) q.Add(Due("bob", "phone", i), 100 + i);
  EXPECT_FALSE(q.Next(1099)) << "the window of the first push has not passed";
  EXPECT_EQ(q.NextDue(), 1101);
  auto b = q.Next(1101);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->items.size(), 20u);
  EXPECT_EQ(b->items.back().offset, 20);
  EXPECT_FALSE(q.Next(5000)) << "in flight";
  Settled s = q.Settle(*b, PushAnswer::kDelivered, 1200);
  EXPECT_EQ(s.done.size(), 20u);
  EXPECT_FALSE(s.unregister);
  EXPECT_EQ(q.size(), 0u);
}

TEST(PushQueue, DevicesAreSeparateAndRepeatsAreIgnored) {
  PushQueue q(Policy());
  q.Add(Due("bob", "phone", 1), 0);
  q.Add(Due("bob", "phone", 1), 0);
  q.Add(Due("bob", "tablet", 1), 500);
  auto a = q.Next(1000);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->device, "phone");
  EXPECT_EQ(a->items.size(), 1u);
  EXPECT_FALSE(q.Next(1000));
  auto b = q.Next(1500);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->device, "tablet");
}

TEST(PushQueue, ReceivedEntriesAreNotPushed) {
  PushQueue q(Policy());
  q.Add(Due("bob", "phone", 1), 0);
  q.Add(Due("bob", "tablet", 1), 0);
  q.Add(Due("bob", "phone", 2), 0);
  q.Received("bob", 1);
  auto b = q.Next(1000);
  ASSERT_TRUE(b);
  ASSERT_EQ(b->items.size(), 1u);
  EXPECT_EQ(b->items[0].offset, 2);
  EXPECT_FALSE(q.Next(1000)) << "the tablet had nothing else";
}

TEST(PushQueue, RetriesWithBackoffThenGivesUp) {
  PushQueue q(Policy());
  q.Add(Due("bob", "phone", 1, /*created_ms=*/0), 0);
  auto b = q.Next(1000);
  ASSERT_TRUE(b);
  EXPECT_TRUE(q.Settle(*b, PushAnswer::kRetry, 1000).done.empty());
  EXPECT_FALSE(q.Next(1999));
  b = q.Next(2000);  // 1 s later
  ASSERT_TRUE(b);
  q.Settle(*b, PushAnswer::kRetry, 2000);
  EXPECT_FALSE(q.Next(3999));
  b = q.Next(4000);  // 2 s later
  ASSERT_TRUE(b);
  q.Settle(*b, PushAnswer::kRetry, 4000);
  EXPECT_EQ(q.NextDue(), 8000);  // 4 s, the cap
  b = q.Next(8000);
  q.Settle(*b, PushAnswer::kRetry, 8000);
  EXPECT_EQ(q.NextDue(), 12000) << "still 4 s: capped";
  b = q.Next(12000);
  Settled s = q.Settle(*b, PushAnswer::kRetry, 12000);  // older than max_age (10 s)
  EXPECT_TRUE(s.gave_up);
  EXPECT_EQ(s.done.size(), 1u);
  EXPECT_EQ(q.size(), 0u);
}

TEST(PushQueue, RejectedTokenUnregistersAndNewPushesWaitForTheRetry) {
  PushQueue q(Policy());
  q.Add(Due("bob", "phone", 1), 0);
  auto b = q.Next(1000);
  q.Add(Due("bob", "phone", 2), 1001);  // arrives while the call is under way
  Settled s = q.Settle(*b, PushAnswer::kRejected, 1002);
  EXPECT_TRUE(s.unregister);
  EXPECT_EQ(q.size(), 0u) << "the device's pushes go with its registration";

  q.Add(Due("bob", "phone", 3), 2000);
  b = q.Next(3000);
  q.Add(Due("bob", "phone", 4), 3001);
  q.Settle(*b, PushAnswer::kRetry, 3002);
  b = q.Next(4002);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->items.size(), 2u) << "the retry carries what came meanwhile";
}

TEST(PushBody, CarriesTheFieldsAndNoContentByDefault) {
  storage::PushDue d = Due("bob", "phone", 7);
  d.group = "team";
  auto j = nlohmann::json::parse(PushBody(d, 3, false));
  EXPECT_EQ(j["user"], "bob");
  EXPECT_EQ(j["device"], "phone");
  EXPECT_EQ(j["app"], "chat");
  EXPECT_EQ(j["token"], "tok");
  EXPECT_EQ(j["id"], "m7");
  EXPECT_EQ(j["from"], "alice");
  EXPECT_EQ(j["signal_offset"], 7);
  EXPECT_EQ(j["user_offset"], 7);
  EXPECT_EQ(j["priority"], 0);
  EXPECT_EQ(j["undelivered"], 7);
  EXPECT_EQ(j["count"], 3);
  EXPECT_EQ(j["group"], "team");
  EXPECT_FALSE(j.contains("payload"));
  EXPECT_EQ(nlohmann::json::parse(PushBody(d, 1, true))["payload"], Base64("secret text"));
  EXPECT_FALSE(nlohmann::json::parse(PushBody(Due("bob", "phone", 1), 1, false)).contains("group"));
  EXPECT_EQ(IdempotencyKey(d), "bob/phone/7");
}

TEST(PushBody, HmacAndBase64MatchTheirStandards) {
  // RFC 4231, test case 2.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_EQ(Base64("foobar"), "Zm9vYmFy");
}

}  // namespace
}  // namespace courier::push
