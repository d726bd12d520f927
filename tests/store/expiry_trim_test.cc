// Expiry and retention: expired copies are marked once and skipped by pulls,
// sweeps are bounded, maintenance commits after the clients' requests, and
// trimming removes only what every device has. On every engine (store_engine.h).
#include <string>
#include <variant>
#include <vector>

#include "store_fixture.h"

namespace courier::storage::testing {
namespace {

class ExpiryTrimTest : public StoreFeaturesTest {};
COURIER_STORE_ENGINES(ExpiryTrimTest);

TEST_P(ExpiryTrimTest, ExpiryMarksUnreceivedCopiesAndPullsSkipThem) {
  Ok<AppendResult>(ToUser("alice", "bob", "m1", 1000, 5000));
  Ok<AppendResult>(ToUser("alice", "bob", "m2", 1000, 5000));
  Ok<AppendResult>(ToUser("alice", "bob", "m3", 1000, 0));  // never expires
  Ok<ReceiptResult>(Receipt("bob", "phone", 2, false));     // m2 received in time
  EXPECT_TRUE(Ok<ExpireResult>(ExpireRequest{.now_ms = 4999, .max_entries = 10}).expired.empty());
  EXPECT_EQ(Offsets("bob", 5000), (V{2, 3})) << "a pull skips an expired copy before the sweep ran";
  ExpireResult x = Ok<ExpireResult>(ExpireRequest{.now_ms = 5000, .max_entries = 10});
  ASSERT_EQ(x.expired.size(), 1u);
  EXPECT_EQ(x.expired[0].receiver, "bob");
  EXPECT_EQ(x.expired[0].entry.id(), "m1");
  EXPECT_EQ(x.expired[0].sender_offset, 1);
  EXPECT_TRUE(Ok<ExpireResult>(ExpireRequest{.now_ms = 9000, .max_entries = 10}).expired.empty())
      << "an expired copy is reported once";
  EXPECT_EQ(Offsets("bob", 0), (V{2, 3})) << "expired stays expired whatever the clock says";
  AdminOpResult u = Admin(AdminOp{.kind = Kind::kGetUser, .user = "bob"});
  EXPECT_EQ(u.undelivered, 1) << "m1 expired, m2 received: only m3 waits";
  EXPECT_EQ(u.head, 3);
}

TEST_P(ExpiryTrimTest, MaintenanceInAFlushCommitsAfterTheClientsRequests) {
  // One flush, maintenance mixed in: the clients' requests commit first, in
  // submission order, then expiry and retention in theirs.
  store_->Submit(ToUser("alice", "bob", "m1", 1000, 2000));
  store_->Submit(ExpireRequest{.now_ms = 3000, .max_entries = 10});
  store_->Submit(ToUser("alice", "bob", "m2", 1000, 2000));
  store_->Submit(TrimRequest{.older_than_ms = 1, .max_entries = 10});
  store_->Submit(ToUser("alice", "bob", "m3"));
  auto done = store_->Flush();
  ASSERT_EQ(done.size(), 5u);
  for (const auto& c : done) EXPECT_TRUE(c.status.ok()) << c.status.ToString();
  int32_t offset = 0;
  for (size_t i = 0; i < 3; ++i) {
    const auto* a = std::get_if<AppendRequest>(&done[i].request);
    ASSERT_NE(a, nullptr) << "completion " << i;
    EXPECT_EQ(a->message.id(), "m" + std::to_string(i + 1));
    const auto* r = std::get_if<AppendResult>(&done[i].result);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->receiver_copies.at(0).signal_offset(), ++offset);
  }
  ASSERT_TRUE(std::holds_alternative<ExpireRequest>(done[3].request));
  EXPECT_EQ(std::get<ExpireResult>(done[3].result).expired.size(), 2u)
      << "the expiry sees both expiring appends, also the one submitted after it";
  EXPECT_TRUE(std::holds_alternative<TrimRequest>(done[4].request));
}

TEST_P(ExpiryTrimTest, ExpirySweepIsBounded) {
  for (int i = 0; i < 5; ++i) Ok<AppendResult>(ToUser("alice", "bob", "m" + std::to_string(i), 1000, 2000));
  EXPECT_EQ(Ok<ExpireResult>(ExpireRequest{.now_ms = 3000, .max_entries = 2}).expired.size(), 2u);
  EXPECT_EQ(Ok<ExpireResult>(ExpireRequest{.now_ms = 3000, .max_entries = 2}).expired.size(), 2u);
  EXPECT_EQ(Ok<ExpireResult>(ExpireRequest{.now_ms = 3000, .max_entries = 2}).expired.size(), 1u);
}

TEST_P(ExpiryTrimTest, TrimRemovesOnlyWhatEveryDeviceHasAndKeepsTheHead) {
  for (int i = 1; i <= 4; ++i) Ok<AppendResult>(ToUser("alice", "bob", "m" + std::to_string(i), 1000 * i));
  // bob's phone has 1..3, his tablet 1..2; alice's only device has all 4.
  Ok<ReceiptResult>(Receipt("bob", "phone", 3, false));
  Ok<ReceiptResult>(Receipt("bob", "tablet", 2, false));
  Ok<ReceiptResult>(Receipt("alice", "laptop", 4, false));
  // Older than 3500: entries 1..3; bob's floor is 2, alice's 4.
  TrimResult t = Ok<TrimResult>(TrimRequest{.older_than_ms = 3500, .max_entries = 100});
  EXPECT_EQ(t.removed, 2u + 3u);
  EXPECT_EQ(Offsets("bob"), (V{3, 4}));
  EXPECT_EQ(Offsets("alice"), (V{4}));
  // The dedup record went with alice's copy: m1 is a new message now.
  AppendResult again = Ok<AppendResult>(ToUser("alice", "bob", "m1", 9000));
  EXPECT_FALSE(again.duplicate);
  EXPECT_EQ(again.device_copy.signal_offset(), 5) << "heads never move back";
  EXPECT_EQ(again.receiver_copies[0].signal_offset(), 5);
  // m4's dedup record is still there.
  EXPECT_TRUE(Ok<AppendResult>(ToUser("alice", "bob", "m4", 9000)).duplicate);
}

TEST_P(ExpiryTrimTest, TrimKeepsEverythingOfAUserWithoutCursors) {
  Ok<AppendResult>(ToUser("alice", "bob", "m1", 1000));
  EXPECT_EQ(Ok<TrimResult>(TrimRequest{.older_than_ms = 99999, .max_entries = 100}).removed, 0u);
  EXPECT_EQ(Offsets("bob"), (V{1}));
}

TEST_P(ExpiryTrimTest, TrimmingAnUnreceivedCopyStopsCountingIt) {
  // bob's phone acknowledged offset 2 only: offset 1 was never received.
  Ok<AppendResult>(ToUser("alice", "bob", "m1", 1000, 99999));
  Ok<AppendResult>(ToUser("alice", "bob", "m2", 1000));
  Ok<ReceiptResult>(Receipt("bob", "phone", 2, false));
  EXPECT_EQ(Admin(AdminOp{.kind = Kind::kGetUser, .user = "bob"}).undelivered, 1);
  EXPECT_EQ(Ok<TrimResult>(TrimRequest{.older_than_ms = 5000, .max_entries = 100}).removed, 2u);
  EXPECT_EQ(Admin(AdminOp{.kind = Kind::kGetUser, .user = "bob"}).undelivered, 0);
  EXPECT_TRUE(Ok<ExpireResult>(ExpireRequest{.now_ms = 999999, .max_entries = 10}).expired.empty())
      << "a trimmed copy must not expire later";
}

}  // namespace
}  // namespace courier::storage::testing
