#include "rate_limiter.h"

#include <gtest/gtest.h>

namespace courier::core {
namespace {

TEST(RateLimiter, OffAllowsEverything) {
  RateLimiter l(0, 0);
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(l.Allow("a", 0));
  EXPECT_EQ(l.size(), 0u);
}

TEST(RateLimiter, BurstThenRefillAtTheRate) {
  RateLimiter l(10, 5);  // 10/s, bucket of 5
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(l.Allow("a", 1000)) << i;
  EXPECT_FALSE(l.Allow("a", 1000));
  EXPECT_FALSE(l.Allow("a", 1099));  // 0.99 tokens
  EXPECT_TRUE(l.Allow("a", 1100));   // one token after 100 ms
  EXPECT_FALSE(l.Allow("a", 1100));
  // Never more than the bucket, however long the pause.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(l.Allow("a", 100000)) << i;
  EXPECT_FALSE(l.Allow("a", 100000));
}

TEST(RateLimiter, ClientsAreIndependent) {
  RateLimiter l(1, 1);
  EXPECT_TRUE(l.Allow("a", 0));
  EXPECT_FALSE(l.Allow("a", 0));
  EXPECT_TRUE(l.Allow("b", 0));
}

TEST(RateLimiter, DefaultBurstIsTwiceTheRate) {
  RateLimiter l(3, 0);
  for (int i = 0; i < 6; ++i) EXPECT_TRUE(l.Allow("a", 0)) << i;
  EXPECT_FALSE(l.Allow("a", 0));
}

TEST(RateLimiter, SweepForgetsOnlyFullBuckets) {
  RateLimiter l(10, 10);
  EXPECT_TRUE(l.Allow("idle", 0));
  for (int i = 0; i < 10; ++i) l.Allow("busy", 1000);
  l.Sweep(1000);  // idle refilled long ago, busy is still empty
  EXPECT_EQ(l.size(), 1u);
  EXPECT_FALSE(l.Allow("busy", 1000));
  // A forgotten client starts with a full bucket, as if it were new.
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(l.Allow("idle", 1000)) << i;
}

TEST(RateLimiter, ClockGoingBackDoesNotAddTokens) {
  RateLimiter l(1, 1);
  EXPECT_TRUE(l.Allow("a", 5000));
  EXPECT_FALSE(l.Allow("a", 1000));
}

}  // namespace
}  // namespace courier::core
