// Key encodings of the LMDB tables: byte order must be offset order.
#include "keys.h"

#include <gtest/gtest.h>

#include <climits>
#include <string>

#include "status.h"

namespace courier::storage {
namespace {

TEST(Keys, LogKeysSortByOffset) {
  for (int32_t a : {1, 2, 255, 256, 65535, 65536, 16777216, INT32_MAX - 1}) {
    EXPECT_LT(keys::LogKey("bob", a), keys::LogKey("bob", a + 1)) << a;
  }
  EXPECT_EQ(keys::LogKey("bob", 1).size(), 3u + 1 + 4);
}

TEST(Keys, LogKeyRoundTrip) {
  int32_t offset = 0;
  EXPECT_TRUE(keys::ParseLogKey(keys::LogKey("bob", 70000), "bob", &offset));
  EXPECT_EQ(offset, 70000);
  EXPECT_FALSE(keys::ParseLogKey(keys::LogKey("bobby", 1), "bob", &offset));
  EXPECT_FALSE(keys::ParseLogKey(keys::LogKey("bo", 1), "bob", &offset));
  EXPECT_FALSE(keys::ParseLogKey(keys::LogKey("bob", 1).substr(0, 7), "bob", &offset));
}

TEST(Keys, CountersRoundTrip) {
  for (int32_t v : {0, 1, 255, 256, 123456789, INT32_MAX}) {
    auto back = keys::DecodeCounter(keys::EncodeCounter(v));
    ASSERT_TRUE(back.has_value()) << v;
    EXPECT_EQ(*back, v);
  }
  EXPECT_FALSE(keys::DecodeCounter("").has_value());
  EXPECT_FALSE(keys::DecodeCounter("abc").has_value());
  EXPECT_FALSE(keys::DecodeCounter("abcde").has_value());
}

TEST(Keys, CompositeKeysKeepTheirPartsApart) {
  EXPECT_NE(keys::DedupKey("ab", "c"), keys::DedupKey("a", "bc"));
  EXPECT_NE(keys::CursorKey("ab", "c"), keys::CursorKey("a", "bc"));
  EXPECT_NE(keys::DedupKey("alice", "m1"), keys::DedupKey("bob", "m1"));
}

TEST(StatusTest, CodesAndTransience) {
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(Status::Ok().ToString(), "ok");
  EXPECT_FALSE(Status::NotFound("x").ok());
  EXPECT_FALSE(Status::NotFound("x").transient());
  EXPECT_FALSE(Status::Invalid("x").transient());
  EXPECT_FALSE(Status::Corruption("x").transient());
  EXPECT_TRUE(Status::Full("x").transient());
  EXPECT_TRUE(Status::IoError("x").transient());
  EXPECT_EQ(Status::Full("map").ToString(), "full: map");
  EXPECT_EQ(Status::NotFound("").ToString(), "not found");
  EXPECT_EQ(Status::Full("m").message(), "m");
}

}  // namespace
}  // namespace courier::storage
