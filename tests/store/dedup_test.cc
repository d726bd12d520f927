// Dedup by (sender, id): a repeat returns the original and writes nothing,
// also inside one batch and after a reopen. On every engine (store_engine.h).
#include <string>
#include <variant>
#include <vector>

#include "store_fixture.h"

namespace courier::storage::testing {
namespace {

class DedupTest : public StoreTest {};
COURIER_STORE_ENGINES(DedupTest);

TEST_P(DedupTest, DuplicateReturnsTheOriginalAndWritesNothing) {
  Appended(Append("alice", "bob", "m1", "original"));
  Appended(Append("alice", "bob", "m2"));
  AppendResult dup = Appended(Append("alice", "carol", "m1", "changed", "tablet"));
  EXPECT_TRUE(dup.duplicate);
  EXPECT_EQ(dup.device_copy.id(), "m1");
  EXPECT_EQ(dup.device_copy.payload(), "original");
  EXPECT_EQ(dup.device_copy.to().user(), "bob");
  EXPECT_EQ(dup.device_copy.from().device(), "phone");
  EXPECT_EQ(dup.device_copy.signal_offset(), 1);
  EXPECT_EQ(dup.device_copy.user_offset(), 1);
  EXPECT_EQ(dup.device_copy.signal_type(), 2);
  EXPECT_TRUE(dup.receivers.empty());
  EXPECT_TRUE(dup.receiver_copies.empty());

  EXPECT_EQ(Offsets(Log("alice")), (V{1, 2}));
  EXPECT_EQ(Offsets(Log("bob")), (V{1, 2}));
  EXPECT_TRUE(Log("carol").empty());
  EXPECT_EQ(Pulled(Pull("carol", "d", 0, 10)).head, 0);

  // Nothing was consumed: the next message takes the next offsets.
  AppendResult next = Appended(Append("alice", "bob", "m3"));
  EXPECT_EQ(next.device_copy.signal_offset(), 3);
  EXPECT_EQ(next.receiver_copies[0].signal_offset(), 3);
  EXPECT_EQ(next.device_copy.user_offset(), 3);
  AppendResult to_carol = Appended(Append("alice", "carol", "m4"));
  EXPECT_EQ(to_carol.device_copy.user_offset(), 1);
  EXPECT_EQ(to_carol.receiver_copies[0].signal_offset(), 1);
}

TEST_P(DedupTest, DuplicateOfANoteToYourself) {
  Appended(Append("alice", "alice", "n1"));
  AppendResult dup = Appended(Append("alice", "alice", "n1"));
  EXPECT_TRUE(dup.duplicate);
  EXPECT_EQ(dup.device_copy.signal_offset(), 1);
  EXPECT_EQ(Offsets(Log("alice")), (V{1}));
}

TEST_P(DedupTest, DedupInsideOneBatch) {
  store_->Submit(Append("alice", "bob", "m1", "first"));
  store_->Submit(Append("alice", "bob", "m1", "second", "tablet"));
  store_->Submit(Append("alice", "bob", "m2"));
  store_->Submit(Append("bob", "alice", "m1"));  // another sender: not a duplicate
  auto done = store_->Flush();
  ASSERT_EQ(done.size(), 4u);
  for (const auto& c : done) ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  const auto& first = std::get<AppendResult>(done[0].result);
  const auto& second = std::get<AppendResult>(done[1].result);
  const auto& third = std::get<AppendResult>(done[2].result);
  const auto& other = std::get<AppendResult>(done[3].result);
  EXPECT_FALSE(first.duplicate);
  EXPECT_TRUE(second.duplicate);
  EXPECT_EQ(second.device_copy.signal_offset(), first.device_copy.signal_offset());
  EXPECT_EQ(second.device_copy.user_offset(), first.device_copy.user_offset());
  EXPECT_EQ(second.device_copy.payload(), "first");
  EXPECT_TRUE(second.receiver_copies.empty());
  EXPECT_FALSE(third.duplicate);
  EXPECT_EQ(third.device_copy.signal_offset(), 2);
  EXPECT_EQ(third.receiver_copies[0].signal_offset(), 2);
  EXPECT_FALSE(other.duplicate);
  EXPECT_EQ(other.device_copy.signal_offset(), 3);
  EXPECT_EQ(Offsets(Log("alice")), (V{1, 2, 3}));
  EXPECT_EQ(Offsets(Log("bob")), (V{1, 2, 3}));
}

TEST_P(DedupTest, CountersDedupAndCursorsSurviveReopen) {
  Appended(Append("alice", "bob", "m1", "original"));
  Appended(Append("alice", "bob", "m2"));
  Appended(Append("alice", "carol", "m3"));
  Receipted(Receipt("bob", "laptop", 1, true));
  Close();
  Open();

  AppendResult dup = Appended(Append("alice", "bob", "m1", "changed"));
  EXPECT_TRUE(dup.duplicate);
  EXPECT_EQ(dup.device_copy.signal_offset(), 1);
  EXPECT_EQ(dup.device_copy.payload(), "original");
  EXPECT_TRUE(dup.device_copy.signal_ack_state().read());  // the receipt survived too

  AppendResult next = Appended(Append("alice", "bob", "m4"));
  EXPECT_FALSE(next.duplicate);
  EXPECT_EQ(next.device_copy.signal_offset(), 4);
  EXPECT_EQ(next.receiver_copies[0].signal_offset(), 3);
  EXPECT_EQ(next.device_copy.user_offset(), 3);
  EXPECT_EQ(Offsets(Pulled(Pull("bob", "laptop", -1, 10)).entries), (V{2, 3}));

  Close();
  Open();
  EXPECT_EQ(Offsets(Log("alice")), (V{1, 2, 3, 4}));
  EXPECT_EQ(Offsets(Log("bob")), (V{1, 2, 3}));
  EXPECT_EQ(Offsets(Log("carol")), (V{1}));
  EXPECT_EQ(Offsets(Pulled(Pull("bob", "laptop", -1, 10)).entries), (V{2, 3}));
  AppendResult to_carol = Appended(Append("carol", "alice", "c1"));
  EXPECT_EQ(to_carol.device_copy.user_offset(), 2);
  EXPECT_EQ(to_carol.device_copy.signal_offset(), 2);
  EXPECT_EQ(to_carol.receiver_copies[0].signal_offset(), 5);
}

}  // namespace
}  // namespace courier::storage::testing
