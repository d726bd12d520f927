// The LMDB engine's table layout (schema 2) behind groups, expiry and
// retention, read with its Reader. The Store semantics of these features are
// tested on every engine in tests/store.
#include <gtest/gtest.h>

#include <map>

#include "lmdb_reader.h"
#include "lmdb_store.h"
#include "store_calls.h"
#include "test_util.h"

namespace courier::storage {
namespace {

using courier::storage::testing::Receipt;
using courier::testing::Ident;
using courier::testing::TempDir;
using courier::v1::Message;
using Kind = AdminOp::Kind;

// A fresh LmdbStore in a temporary directory, for FeatureCalls.
class LmdbFixture : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    store_.reset();
    LmdbOptions o;
    o.path = dir_.Sub("db");
    o.map_size_mb = 16;
    o.sync = SyncMode::kOs;
    Status s = LmdbStore::Open(o, &store_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  TempDir dir_;
  std::unique_ptr<LmdbStore> store_;
};

class StoreFeaturesTest : public courier::storage::testing::FeatureCalls<LmdbFixture> {};

using V = std::vector<int32_t>;

}  // namespace
}  // namespace courier::storage

// ---------------------------------------------------------------- schema 2 layout
//
// What the tables hold (docs/architecture.md): one body per message, one
// fixed-size copy record per copy, bodies gone with their last copy.

namespace courier::storage {
namespace {

// Entries of each named table of the store at `path`, as its Reader counts
// them; -1 for a table that does not exist.
std::map<std::string, int64_t> TableEntries(const std::string& path, std::vector<std::string> names) {
  std::map<std::string, int64_t> out;
  std::unique_ptr<Reader> reader;
  EXPECT_TRUE(OpenLmdbReader(path, &reader).ok());
  for (const auto& n : names) out[n] = -1;
  if (!reader) return out;
  for (const auto& t : reader->Tables()) {
    if (out.count(t.name)) out[t.name] = t.records;
  }
  return out;
}

class StoreLayoutTest : public StoreFeaturesTest {
 protected:
  std::map<std::string, int64_t> Tables() {
    store_.reset();
    auto t = TableEntries(dir_.Sub("db"), {"bodies", "copies", "refs", "dedup", "expiry", "log"});
    Open();
    return t;
  }
};

TEST_F(StoreLayoutTest, OneBodyPerMessageAndOneRecordPerCopy) {
  Ok<AppendResult>(ToUser("alice", "bob", "m1", 1000, 5000));
  Ok<AppendResult>(ToUser("bob", "alice", "m2", 1000));
  auto t = Tables();
  EXPECT_EQ(t["bodies"], 2);
  EXPECT_EQ(t["copies"], 4);
  EXPECT_EQ(t["refs"], 0) << "written only by retention";
  EXPECT_EQ(t["dedup"], 2);
  EXPECT_EQ(t["expiry"], 1) << "one entry per RECEIVER copy with an expiry";
  EXPECT_EQ(t["log"], -1) << "schema 2 has no log table";
  // Both copies show the one body.
  EXPECT_EQ(Offsets("alice"), (V{1, 2}));
  EXPECT_EQ(Offsets("bob"), (V{1, 2}));
}

TEST_F(StoreLayoutTest, BodyGoesWithItsLastTrimmedCopy) {
  Ok<AppendResult>(ToUser("alice", "bob", "m1", 1000));
  Ok<AppendResult>(ToUser("alice", "bob", "m2", 1000));
  // Only bob has a cursor: his copies go, alice's keep the bodies.
  Ok<ReceiptResult>(Receipt("bob", "phone", 2, true));
  EXPECT_EQ(Ok<TrimResult>(TrimRequest{.older_than_ms = 5000, .max_entries = 100}).removed, 2u);
  auto t = Tables();
  EXPECT_EQ(t["bodies"], 2);
  EXPECT_EQ(t["copies"], 2);
  EXPECT_EQ(t["refs"], 2) << "one copy of each body left";
  auto alice = Ok<PullResult>(PullRequest{.user = "alice", .device = "d", .after = 0, .limit = 10});
  ASSERT_EQ(alice.entries.size(), 2u);
  EXPECT_EQ(alice.entries[1].payload(), "hi m2");
  EXPECT_EQ(alice.entries[1].signal_type(), 2);
  EXPECT_TRUE(alice.entries[1].signal_ack_state().read()) << "bob's receipt reached the sender copy";
  // Now alice's device has both: the last copies go, and the bodies with them.
  Ok<ReceiptResult>(Receipt("alice", "laptop", 2, false));
  EXPECT_EQ(Ok<TrimResult>(TrimRequest{.older_than_ms = 5000, .max_entries = 100}).removed, 2u);
  t = Tables();
  EXPECT_EQ(t["bodies"], 0);
  EXPECT_EQ(t["copies"], 0);
  EXPECT_EQ(t["refs"], 0);
  EXPECT_EQ(t["dedup"], 0);
  // Offsets and user offsets go on; new bodies are stored as before.
  AppendResult again = Ok<AppendResult>(ToUser("alice", "bob", "m1", 9000));
  EXPECT_FALSE(again.duplicate);
  EXPECT_EQ(again.device_copy.signal_offset(), 3);
  EXPECT_EQ(again.device_copy.user_offset(), 3);
  EXPECT_EQ(Offsets("bob"), (V{3}));
}

TEST_F(StoreLayoutTest, GroupBodyCountsCopiesAndReceiptsAcrossReopen) {
  CreateGroup("family", {"alice", "bob", "carol", "dave"});
  AppendResult a = Ok<AppendResult>(ToGroup("alice", "family", "m1"));
  ASSERT_EQ(a.receivers.size(), 3u);
  auto t = Tables();
  EXPECT_EQ(t["bodies"], 1);
  EXPECT_EQ(t["copies"], 4);
  ReceiptResult r = Ok<ReceiptResult>(Receipt("bob", "phone", 1, true));
  EXPECT_EQ(r.recipients, 3u);
  EXPECT_EQ(r.received_count, 1u);
  EXPECT_EQ(r.read_count, 1u);
  Open();  // the counts live on disk
  r = Ok<ReceiptResult>(Receipt("carol", "phone", 1, false));
  EXPECT_EQ(r.received_count, 2u);
  EXPECT_EQ(r.read_count, 1u);
  ASSERT_TRUE(r.peer);
  EXPECT_FALSE(r.peer->signal_ack_state().received());
  r = Ok<ReceiptResult>(Receipt("dave", "phone", 1, false));
  EXPECT_EQ(r.received_count, 3u);
  ASSERT_TRUE(r.peer);
  EXPECT_TRUE(r.peer->signal_ack_state().received()) << "every member has it";
  EXPECT_FALSE(r.peer->signal_ack_state().read());
  EXPECT_EQ(r.peer->payload(), "hi m1");
  EXPECT_EQ(r.peer->to().group(), "family");
  // The receivers' copies carry their own state, the body is shared.
  auto carol = Ok<PullResult>(PullRequest{.user = "carol", .device = "d", .after = 0, .limit = 10});
  ASSERT_EQ(carol.entries.size(), 1u);
  EXPECT_TRUE(carol.entries[0].signal_ack_state().received());
  EXPECT_FALSE(carol.entries[0].signal_ack_state().read());
  EXPECT_EQ(carol.entries[0].signal_type(), 3);
  auto bob = Ok<PullResult>(PullRequest{.user = "bob", .device = "d", .after = 0, .limit = 10});
  ASSERT_EQ(bob.entries.size(), 1u);
  EXPECT_TRUE(bob.entries[0].signal_ack_state().read());
  // A duplicate returns the sender copy with the group state.
  AppendResult dup = Ok<AppendResult>(ToGroup("alice", "family", "m1"));
  EXPECT_TRUE(dup.duplicate);
  EXPECT_TRUE(dup.device_copy.signal_ack_state().received());
  EXPECT_EQ(dup.device_copy.signal_type(), 2);
}

TEST_F(StoreLayoutTest, ExpiredFlagIsKeptPerCopy) {
  CreateGroup("family", {"alice", "bob", "carol"});
  AppendRequest g = ToGroup("alice", "family", "m1");
  g.expires_ms = 2000;
  Ok<AppendResult>(g);
  Ok<ReceiptResult>(Receipt("bob", "phone", 1, false));  // bob got it in time
  ExpireResult x = Ok<ExpireResult>(ExpireRequest{.now_ms = 3000, .max_entries = 10});
  ASSERT_EQ(x.expired.size(), 1u);
  EXPECT_EQ(x.expired[0].receiver, "carol");
  EXPECT_EQ(x.expired[0].sender_offset, 1);
  EXPECT_EQ(x.expired[0].entry.payload(), "hi m1");
  EXPECT_EQ(Offsets("carol", 1), V{}) << "expired stays expired whatever the clock says";
  EXPECT_EQ(Offsets("bob", 9999), (V{1}));
  EXPECT_EQ(Tables()["expiry"], 0);
}

// The store's pages as the Reader counts them (what `mdb_stat -e -f -a`
// shows): the main database as the catalog, and the per-user
// sub-databases of `copies`, which no table's count includes.
TEST_F(StoreLayoutTest, PageSpaceCountsTheCatalogAndTheSubDatabases) {
  // 600 copies of 11 bytes each for alice and bob: more than a page each.
  for (int i = 0; i < 600; ++i) store_->Submit(ToUser("alice", "bob", "m" + std::to_string(i)));
  for (const auto& c : store_->Flush()) ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  store_.reset();
  std::unique_ptr<Reader> reader;
  ASSERT_TRUE(OpenLmdbReader(dir_.Sub("db"), &reader).ok());
  EXPECT_EQ(reader->StoredCopies(), 1200);
  PageSpace p;
  ASSERT_TRUE(reader->ScanPageSpace(&p).ok());
  EXPECT_GT(p.page_size, 0);
  EXPECT_EQ(p.catalog.name, "Main DB");
  EXPECT_EQ(p.catalog.records, static_cast<int64_t>(p.tables.size())) << "one catalog record per table";
  ASSERT_EQ(p.tables.size(), reader->Tables().size());
  EXPECT_EQ(p.nested_in, "copies");
  // Two sub-databases of 6600 bytes: 2 leaf pages and a branch page each.
  EXPECT_GE(p.nested_pages, 4);
  EXPECT_LE(p.nested_pages, 8);
  EXPECT_GE(p.free_pages, 0);
  EXPECT_GT(p.pages_used, p.nested_pages + p.free_pages + p.freelist_pages);
}

}  // namespace
}  // namespace courier::storage
