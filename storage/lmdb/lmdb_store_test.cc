// LmdbStore on a real LMDB environment in a temporary directory: what only
// the LMDB engine has (schema version in the meta table, opening a path,
// sync modes, map growth; the copies table's LMDB operations are in
// lmdb_env_test.cc). The Store semantics every engine shares are tested on
// every engine in tests/store.
#include "lmdb_store.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <sys/stat.h>
#include <variant>

#include "lmdb_testing.h"
#include "store_calls.h"
#include "test_util.h"

namespace courier::storage {
namespace {

using courier::testing::Ident;
using courier::testing::TempDir;

using courier::storage::testing::Append;
using courier::storage::testing::Conv;
using courier::storage::testing::Pull;

// A fresh LmdbStore in a temporary directory, for RequestCalls.
class LmdbStoreFixture : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  LmdbOptions Options() const {
    LmdbOptions o;
    o.path = dir_.Sub("db");
    o.map_size_mb = 16;
    o.max_map_size_mb = 64;
    o.sync = SyncMode::kOs;  // speed; durability across processes is the integration tests' job
    return o;
  }
  void Open(const LmdbOptions& o) {
    store_.reset();
    Status s = LmdbStore::Open(o, &store_);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_NE(store_, nullptr);
  }
  void Open() { Open(Options()); }
  void Close() { store_.reset(); }

  TempDir dir_;
  std::unique_ptr<LmdbStore> store_;
};

class StoreTest : public courier::storage::testing::RequestCalls<LmdbStoreFixture> {};

// ---------------------------------------------------------------- opening

TEST_F(StoreTest, RefusesAnotherSchemaVersion) {
  Appended(Append("alice", "bob", "m1"));
  Close();
  ASSERT_TRUE(WriteSchemaVersionForTesting(Options().path, "999").ok());
  std::unique_ptr<LmdbStore> other;
  Status s = LmdbStore::Open(Options(), &other);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(other, nullptr);
  EXPECT_NE(s.message().find("999"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("version"), std::string::npos) << s.message();
}

TEST_F(StoreTest, RefusesEntriesWithoutASchemaVersion) {
  Appended(Append("alice", "bob", "m1"));
  Close();
  ASSERT_TRUE(WriteSchemaVersionForTesting(Options().path, std::nullopt).ok());
  std::unique_ptr<LmdbStore> other;
  Status s = LmdbStore::Open(Options(), &other);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(other, nullptr);
  EXPECT_NE(s.message().find("version"), std::string::npos) << s.message();
}

TEST(StoreOpen, PathThatIsAFileIsRefused) {
  TempDir dir;
  const std::string file = dir.Sub("file");
  std::ofstream(file) << "not a store";
  LmdbOptions o;
  o.path = file;
  std::unique_ptr<LmdbStore> store;
  Status s = LmdbStore::Open(o, &store);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(store, nullptr);
  EXPECT_NE(s.message().find(file), std::string::npos) << s.message();
}

TEST(StoreOpen, EmptyPathIsRefused) {
  LmdbOptions o;
  std::unique_ptr<LmdbStore> store;
  EXPECT_FALSE(LmdbStore::Open(o, &store).ok());
  EXPECT_EQ(store, nullptr);
}

TEST(StoreOpen, MissingDirectoryIsCreated) {
  TempDir dir;
  LmdbOptions o;
  o.path = dir.Sub("new-store");
  o.map_size_mb = 4;
  o.sync = SyncMode::kOs;
  std::unique_ptr<LmdbStore> store;
  Status s = LmdbStore::Open(o, &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_NE(store, nullptr);
  struct stat st {};
  ASSERT_EQ(stat(o.path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  store->Submit(Append("alice", "bob", "m1"));
  auto done = store->Flush();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].status.ok()) << done[0].status.ToString();
}

// ---------------------------------------------------------------- sync os

// With sync os the store is forced to disk beside the commits, once per
// interval and only after a commit; the other modes sync in the commit.
TEST_F(StoreTest, OsModeSyncsInTheBackgroundAfterCommits) {
  LmdbOptions o = Options();  // sync os
  o.os_sync_interval_ms = 5;
  Open(o);
  Appended(Append("alice", "bob", "m1"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store_->os_syncs() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GE(store_->os_syncs(), 1u);
  EXPECT_EQ(store_->os_sync_failures(), 0u);

  // The store reopens with the message after a clean close.
  Open(o);
  Completion c = Run(Pull("bob", "d", 0, 10));
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  EXPECT_EQ(std::get<PullResult>(c.result).head, 1);
}

TEST_F(StoreTest, FullModeHasNoBackgroundSync) {
  LmdbOptions o = Options();
  o.sync = SyncMode::kFull;
  Open(o);
  Appended(Append("alice", "bob", "m1"));
  EXPECT_EQ(store_->os_syncs(), 0u);
}

// ---------------------------------------------------------------- map size

// 3000 messages of 1 KiB from alice to bob, in batches of 100, from a 1 MiB map.
TEST(StoreMap, GrowsWhenFull) {
  TempDir dir;
  LmdbOptions o;
  o.path = dir.Sub("db");
  o.map_size_mb = 1;
  o.max_map_size_mb = 64;
  o.sync = SyncMode::kOs;
  std::unique_ptr<LmdbStore> store;
  ASSERT_TRUE(LmdbStore::Open(o, &store).ok());
  const std::string payload(1024, 'x');
  int ok = 0;
  for (int b = 0; b < 30; ++b) {
    for (int i = 0; i < 100; ++i) store->Submit(Append("alice", "bob", "m" + std::to_string(b * 100 + i), payload));
    for (const auto& c : store->Flush()) {
      EXPECT_TRUE(c.status.ok()) << c.status.ToString();
      ok += c.status.ok();
    }
  }
  EXPECT_EQ(ok, 3000);
  EXPECT_GT(store->stats().map_grows, 0u);
  EXPECT_GT(store->stats().map_size_bytes, 1u << 20);
  EXPECT_LE(store->stats().map_size_bytes, 64u << 20);
  EXPECT_EQ(store->stats().failed_batches, 0u);

  // The grown store reopens with the small initial size and keeps working.
  store.reset();
  ASSERT_TRUE(LmdbStore::Open(o, &store).ok());
  store->Submit(PullRequest{.user = "bob", .device = "d", .after = 2990, .limit = 100});
  store->Submit(Append("alice", "bob", "last", payload));
  auto done = store->Flush();
  ASSERT_EQ(done.size(), 2u);
  ASSERT_TRUE(done[0].status.ok()) << done[0].status.ToString();
  const auto& pulled = std::get<PullResult>(done[0].result);
  EXPECT_EQ(pulled.head, 3000);
  ASSERT_EQ(pulled.entries.size(), 10u);
  EXPECT_EQ(pulled.entries.back().id(), "m2999");
  EXPECT_EQ(pulled.entries.back().payload(), payload);
  ASSERT_TRUE(done[1].status.ok()) << done[1].status.ToString();
  EXPECT_EQ(std::get<AppendResult>(done[1].result).device_copy.signal_offset(), 3001);
}

TEST(StoreMap, FullStoreFailsTheWholeBatchAndKeepsEarlierData) {
  TempDir dir;
  LmdbOptions o;
  o.path = dir.Sub("db");
  o.map_size_mb = 1;
  o.max_map_size_mb = 1;
  o.sync = SyncMode::kOs;
  std::unique_ptr<LmdbStore> store;
  ASSERT_TRUE(LmdbStore::Open(o, &store).ok());
  const std::string payload(1024, 'x');
  int32_t stored = 0;  // messages committed before the failure
  bool failed = false;
  for (int b = 0; b < 100 && !failed; ++b) {
    for (int i = 0; i < 50; ++i) store->Submit(Append("alice", "bob", "m" + std::to_string(b * 50 + i), payload));
    auto done = store->Flush();
    ASSERT_EQ(done.size(), 50u);
    EXPECT_EQ(store->pending(), 0u);
    if (done[0].status.ok()) {
      for (const auto& c : done) ASSERT_TRUE(c.status.ok()) << c.status.ToString();
      stored += 50;
      continue;
    }
    failed = true;
    for (const auto& c : done) {
      EXPECT_EQ(c.status.code(), Status::Code::kFull) << c.status.ToString();
      EXPECT_TRUE(c.status.transient());
      EXPECT_TRUE(std::holds_alternative<std::monostate>(c.result));
    }
  }
  ASSERT_TRUE(failed) << "1 MiB never filled up";
  ASSERT_GT(stored, 0) << "even the first batch failed";
  EXPECT_EQ(store->stats().map_grows, 0u);
  EXPECT_EQ(store->stats().failed_batches, 1u);

  // Nothing of the failed batch is visible; what came before is intact.
  store->Submit(PullRequest{.user = "alice", .device = "d", .after = stored - 2, .limit = 10});
  store->Submit(PullRequest{.user = "bob", .device = "d", .after = 0, .limit = 3});
  store->Submit(PullRequest{.user = "bob", .device = "d", .after = stored, .limit = 3});
  auto done = store->Flush();
  ASSERT_EQ(done.size(), 3u);
  for (const auto& c : done) ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  const auto& alice = std::get<PullResult>(done[0].result);
  EXPECT_EQ(alice.head, stored);
  ASSERT_EQ(alice.entries.size(), 2u);
  EXPECT_EQ(alice.entries[1].signal_offset(), stored);
  EXPECT_EQ(alice.entries[1].id(), "m" + std::to_string(stored - 1));
  const auto& bob_start = std::get<PullResult>(done[1].result);
  EXPECT_EQ(bob_start.head, stored);
  ASSERT_EQ(bob_start.entries.size(), 3u);
  EXPECT_EQ(bob_start.entries[0].id(), "m0");
  EXPECT_EQ(bob_start.entries[0].payload(), payload);
  EXPECT_TRUE(std::get<PullResult>(done[2].result).entries.empty());

  // The same holds after reopening.
  store.reset();
  ASSERT_TRUE(LmdbStore::Open(o, &store).ok());
  store->Submit(PullRequest{.user = "bob", .device = "d", .after = stored - 1, .limit = 10});
  done = store->Flush();
  ASSERT_EQ(done.size(), 1u);
  ASSERT_TRUE(done[0].status.ok());
  EXPECT_EQ(std::get<PullResult>(done[0].result).head, stored);
  EXPECT_EQ(std::get<PullResult>(done[0].result).entries.size(), 1u);
}

}  // namespace
}  // namespace courier::storage
