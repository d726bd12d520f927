// Receipts: ack flags on both copies, only ever set; device cursors only
// move forward; unknown offsets. On every engine (store_engine.h).
#include <string>
#include <variant>
#include <vector>

#include "store_fixture.h"

namespace courier::storage::testing {
namespace {

class ReceiptsTest : public StoreTest {};
COURIER_STORE_ENGINES(ReceiptsTest);

TEST_P(ReceiptsTest, ReceiptsSetFlagsOnBothCopiesAndNeverClearThem) {
  Appended(Append("alice", "carol", "m0"));  // alice's offsets differ from bob's
  Appended(Append("alice", "bob", "m1"));    // alice 2, bob 1

  ReceiptResult r = Receipted(Receipt("bob", "laptop", 1, false));
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.entry.id(), "m1");
  EXPECT_EQ(r.entry.signal_offset(), 1);
  EXPECT_EQ(r.entry.signal_type(), 3);
  EXPECT_TRUE(r.entry.signal_ack_state().received());
  EXPECT_FALSE(r.entry.signal_ack_state().read());
  EXPECT_EQ(r.peer_user, "alice");
  ASSERT_TRUE(r.peer.has_value());
  EXPECT_EQ(r.peer->id(), "m1");
  EXPECT_EQ(r.peer->signal_offset(), 2);
  EXPECT_EQ(r.peer->signal_type(), 2);
  EXPECT_TRUE(r.peer->signal_ack_state().received());
  EXPECT_FALSE(r.peer->signal_ack_state().read());

  // Stored, on both sides.
  EXPECT_TRUE(Log("bob")[0].signal_ack_state().received());
  EXPECT_TRUE(Log("alice")[1].signal_ack_state().received());
  EXPECT_FALSE(Log("alice")[0].signal_ack_state().received());  // m0 untouched

  // The same receipt again changes nothing.
  r = Receipted(Receipt("bob", "laptop", 1, false));
  EXPECT_FALSE(r.changed);

  r = Receipted(Receipt("bob", "phone", 1, true));
  EXPECT_TRUE(r.changed);
  EXPECT_TRUE(r.entry.signal_ack_state().received());
  EXPECT_TRUE(r.entry.signal_ack_state().read());
  ASSERT_TRUE(r.peer.has_value());
  EXPECT_TRUE(r.peer->signal_ack_state().read());
  EXPECT_EQ(r.peer->signal_offset(), 2);

  // Never backwards: a later "received" leaves "read" set.
  r = Receipted(Receipt("bob", "laptop", 1, false));
  EXPECT_FALSE(r.changed);
  EXPECT_TRUE(r.entry.signal_ack_state().read());
  r = Receipted(Receipt("bob", "laptop", 1, true));
  EXPECT_FALSE(r.changed);

  EXPECT_TRUE(Log("bob")[0].signal_ack_state().read());
  EXPECT_TRUE(Log("bob")[0].signal_ack_state().received());
  EXPECT_TRUE(Log("alice")[1].signal_ack_state().read());
  EXPECT_TRUE(Log("alice")[1].signal_ack_state().received());
  EXPECT_TRUE(Log("alice")[1].signal_ack_state().send());
}

TEST_P(ReceiptsTest, ReadDirectlyAlsoSetsRead) {
  Appended(Append("alice", "bob", "m1"));
  ReceiptResult r = Receipted(Receipt("bob", "laptop", 1, true));
  EXPECT_TRUE(r.changed);
  EXPECT_TRUE(r.entry.signal_ack_state().read());
  EXPECT_TRUE(r.entry.signal_ack_state().received());
  ASSERT_TRUE(r.peer.has_value());
  EXPECT_TRUE(r.peer->signal_ack_state().read());
}

TEST_P(ReceiptsTest, ReceiptMovesTheDeviceCursorOnlyForward) {
  for (int i = 1; i <= 5; ++i) Appended(Append("alice", "bob", "m" + std::to_string(i)));
  // No cursor yet: -1 reads from the start.
  EXPECT_EQ(Offsets(Pulled(Pull("bob", "laptop", -1, 10)).entries), (V{1, 2, 3, 4, 5}));

  Receipted(Receipt("bob", "laptop", 3, false));
  EXPECT_EQ(Offsets(Pulled(Pull("bob", "laptop", -1, 10)).entries), (V{4, 5}));
  Receipted(Receipt("bob", "laptop", 1, true));  // older: the cursor stays
  EXPECT_EQ(Offsets(Pulled(Pull("bob", "laptop", -1, 10)).entries), (V{4, 5}));
  Receipted(Receipt("bob", "laptop", 5, false));
  EXPECT_TRUE(Pulled(Pull("bob", "laptop", -1, 10)).entries.empty());

  // Cursors are per device.
  EXPECT_EQ(Offsets(Pulled(Pull("bob", "phone", -1, 10)).entries), (V{1, 2, 3, 4, 5}));
  // A pull does not move the cursor.
  EXPECT_EQ(Offsets(Pulled(Pull("bob", "phone", -1, 2)).entries), (V{1, 2}));
  EXPECT_EQ(Offsets(Pulled(Pull("bob", "phone", -1, 2)).entries), (V{1, 2}));
}

TEST_P(ReceiptsTest, ReceiptOnOwnDeviceCopyMovesTheCursorOnly) {
  Appended(Append("alice", "bob", "m1"));
  Appended(Append("alice", "bob", "m2"));
  ReceiptResult r = Receipted(Receipt("alice", "tablet", 1, true));
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.entry.signal_offset(), 1);
  EXPECT_EQ(r.entry.signal_type(), 2);
  EXPECT_FALSE(r.entry.signal_ack_state().received());
  EXPECT_FALSE(r.entry.signal_ack_state().read());
  EXPECT_TRUE(r.peer_user.empty());
  EXPECT_FALSE(r.peer.has_value());
  // Neither copy changed state.
  EXPECT_FALSE(Log("alice")[0].signal_ack_state().read());
  EXPECT_FALSE(Log("alice")[0].signal_ack_state().received());
  EXPECT_FALSE(Log("bob")[0].signal_ack_state().read());
  EXPECT_FALSE(Log("bob")[0].signal_ack_state().received());
  // The cursor moved.
  EXPECT_EQ(Offsets(Pulled(Pull("alice", "tablet", -1, 10)).entries), (V{2}));
}

TEST_P(ReceiptsTest, ReceiptOnAMissingOffsetIsNotFound) {
  Appended(Append("alice", "bob", "m1"));
  for (int32_t offset : {2, 99, 0, -1}) {
    Completion c = Run(Receipt("bob", "laptop", offset, true));
    EXPECT_EQ(c.status.code(), Status::Code::kNotFound) << offset << ": " << c.status.ToString();
    EXPECT_TRUE(std::holds_alternative<std::monostate>(c.result));
  }
  Completion c = Run(Receipt("carol", "laptop", 1, false));  // no log at all
  EXPECT_EQ(c.status.code(), Status::Code::kNotFound);
  // A failed receipt does not move the cursor.
  EXPECT_EQ(Offsets(Pulled(Pull("bob", "laptop", -1, 10)).entries), (V{1}));
  EXPECT_FALSE(Log("bob")[0].signal_ack_state().received());
}

}  // namespace
}  // namespace courier::storage::testing
