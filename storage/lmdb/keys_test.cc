// Key and value encodings of the LMDB tables: byte order must be offset order.
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

TEST(Keys, BodyKeysSortBySequenceAndRoundTrip) {
  for (uint64_t a : {uint64_t{1}, uint64_t{255}, uint64_t{256}, uint64_t{1} << 32, (uint64_t{1} << 40) + 7}) {
    EXPECT_LT(keys::BodyKey(a), keys::BodyKey(a + 1)) << a;
    EXPECT_EQ(keys::BodyKey(a).size(), keys::kSeqSize);
    EXPECT_EQ(keys::ParseBodyKey(keys::BodyKey(a)), a);
  }
  EXPECT_EQ(keys::ParseBodyKey(keys::BodyKey(keys::kMaxSeq)), keys::kMaxSeq);
  EXPECT_FALSE(keys::ParseBodyKey("1234567").has_value());
  EXPECT_EQ(keys::DecodeSeq(keys::EncodeSeq(123456789)), 123456789u);
}

TEST(Keys, CopyRecordsRoundTripAndSortByOffset) {
  keys::CopyRecord c;
  c.offset = 70000;
  c.seq = (uint64_t{1} << 33) + 5;
  for (int flags = 0; flags < 16; ++flags) {
    c.device = flags & 1;
    c.received = flags & 2;
    c.read = flags & 4;
    c.expired = flags & 8;
    const std::string v = keys::EncodeCopy(c);
    ASSERT_EQ(v.size(), keys::kCopyRecordSize);
    auto back = keys::DecodeCopy(v);
    ASSERT_TRUE(back.has_value()) << flags;
    EXPECT_EQ(back->offset, c.offset);
    EXPECT_EQ(back->seq, c.seq);
    EXPECT_EQ(back->device, c.device);
    EXPECT_EQ(back->received, c.received);
    EXPECT_EQ(back->read, c.read);
    EXPECT_EQ(back->expired, c.expired);
  }
  EXPECT_FALSE(keys::DecodeCopy("short").has_value());
  std::string bad_flags = keys::EncodeCopy(c);
  bad_flags.back() = char(0x80);
  EXPECT_FALSE(keys::DecodeCopy(bad_flags).has_value());
  // Offset order is byte order, whatever the body and flags: a higher body
  // sequence with every flag set still sorts before the next offset.
  for (int32_t a : {1, 2, 255, 256, 65535, 65536, 16777216, INT32_MAX - 1}) {
    keys::CopyRecord lo{
        .offset = a, .seq = keys::kMaxSeq, .device = true, .received = true, .read = true, .expired = true};
    keys::CopyRecord hi{.offset = a + 1, .seq = 0};
    EXPECT_LT(keys::EncodeCopy(lo), keys::EncodeCopy(hi)) << a;
    // The probe of an offset sorts before its records and after the lower offsets'.
    EXPECT_LT(keys::CopyProbe(a + 1), keys::EncodeCopy(keys::CopyRecord{.offset = a + 1, .seq = 1}));
    EXPECT_LT(keys::EncodeCopy(lo), keys::CopyProbe(a + 1));
    EXPECT_EQ(keys::CopyProbe(a).size(), keys::kCopyRecordSize);
  }
}

TEST(Keys, ExpiryKeysSortByTimeThenBodyAndRoundTrip) {
  EXPECT_LT(keys::ExpiryKey(999, 50, 1, "zed"), keys::ExpiryKey(1000, 1, 1, "al"));
  EXPECT_LT(keys::ExpiryKey(1000, 1, 9, "zed"), keys::ExpiryKey(1000, 2, 1, "al"));
  EXPECT_LT(keys::ExpiryKey(int64_t{1} << 40, 1, 1, "a"), keys::ExpiryKey((int64_t{1} << 40) + 1, 1, 1, "a"));
  auto p = keys::ParseExpiryKey(keys::ExpiryKey(1234567890123, (uint64_t{1} << 35) + 3, 70000, "bob"));
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->expires_ms, 1234567890123);
  EXPECT_EQ(p->seq, (uint64_t{1} << 35) + 3);
  EXPECT_EQ(p->offset, 70000);
  EXPECT_EQ(p->user, "bob");
  EXPECT_FALSE(keys::ParseExpiryKey(std::string(8 + keys::kSeqSize + 4, 'x')).has_value()) << "no user";
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
