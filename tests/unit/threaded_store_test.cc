#include "threaded_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "lmdb_store.h"
#include "test_util.h"

namespace courier::storage {
namespace {

using courier::testing::TempDir;

AppendRequest Append(const std::string& id) {
  AppendRequest r;
  r.sender = "alice";
  r.receivers = {"bob"};
  r.conversation = "alice|bob";
  r.message.set_id(id);
  r.message.mutable_to()->set_user("bob");
  return r;
}

class ThreadedStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<ThreadedStore> Make(size_t max_batch = ThreadedStore::kDefaultMaxBatch,
                                      ThreadedStore::Finish finish = {},
                                      ThreadedStore::Start start = ThreadedStore::Start::kAtSubmit) {
    LmdbOptions o;
    o.path = dir_.Sub("db");
    o.map_size_mb = 16;
    o.sync = SyncMode::kOs;
    std::unique_ptr<LmdbStore> lmdb;
    EXPECT_TRUE(LmdbStore::Open(o, &lmdb).ok());
    return std::make_unique<ThreadedStore>(
        std::move(lmdb), [this] { ++wakes_; }, max_batch, std::move(finish), start);
  }
  // Collects completions until `n` have come, or 10 s passed.
  static std::vector<Completion> Collect(Store& s, size_t n) {
    std::vector<Completion> all;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (all.size() < n && std::chrono::steady_clock::now() < deadline) {
      for (auto& c : s.Flush()) all.push_back(std::move(c));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return all;
  }
  // `user`'s head in the store on disk, read by a store of its own (-1 on failure).
  int32_t HeadOnDisk(const std::string& user) {
    LmdbOptions o;
    o.path = dir_.Sub("db");
    std::unique_ptr<LmdbStore> lmdb;
    if (!LmdbStore::Open(o, &lmdb).ok()) return -1;
    lmdb->Submit(PullRequest{.user = user, .device = "d", .after = 0, .limit = 1});
    auto done = lmdb->Flush();
    auto* pulled = done.size() == 1 ? std::get_if<PullResult>(&done[0].result) : nullptr;
    return pulled ? pulled->head : -1;
  }
  // Every completion succeeded, and alice's offsets follow submission order.
  static void ExpectAppendedInOrder(const std::vector<Completion>& done) {
    for (size_t i = 0; i < done.size(); ++i) {
      ASSERT_TRUE(done[i].status.ok()) << done[i].status.ToString();
      const auto* r = std::get_if<AppendResult>(&done[i].result);
      ASSERT_NE(r, nullptr) << "completion " << i << " has no AppendResult";
      EXPECT_EQ(r->device_copy.signal_offset(), static_cast<int32_t>(i + 1));
    }
  }
  TempDir dir_;
  std::atomic<int> wakes_{0};
};

TEST_F(ThreadedStoreTest, CompletesInSubmissionOrderAndWakes) {
  auto store = Make();
  for (int i = 0; i < 200; ++i) store->Submit(Append("m" + std::to_string(i)));
  EXPECT_EQ(store->pending(), 200u);
  auto done = Collect(*store, 200);
  ASSERT_EQ(done.size(), 200u);
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(done[i].status.ok()) << done[i].status.ToString();
    auto& r = std::get<AppendResult>(done[i].result);
    EXPECT_EQ(r.device_copy.id(), "m" + std::to_string(i));
    EXPECT_EQ(r.device_copy.signal_offset(), i + 1) << "offsets follow submission order";
  }
  EXPECT_EQ(store->pending(), 0u);
  EXPECT_GT(wakes_.load(), 0);
  EXPECT_GT(store->commit_stats().commits, 0u);
  EXPECT_LE(store->commit_stats().commits, 200u);
}

// The finish hook sees every committed batch on the worker, in submission
// order, before Flush() returns it; Flush() then returns statuses only (the
// worker keeps and frees the requests and results).
TEST_F(ThreadedStoreTest, FinishRunsOnTheWorkerBeforeFlushReturns) {
  const auto caller = std::this_thread::get_id();
  std::vector<int32_t> seen;  // only the worker writes it, before the completions are published
  std::atomic<bool> other_thread{true};
  auto store = Make(7, [&](std::vector<Completion>& batch) {
    if (std::this_thread::get_id() == caller) other_thread = false;
    EXPECT_LE(batch.size(), 7u);
    for (auto& c : batch) {
      const auto* r = std::get_if<AppendResult>(&c.result);
      ASSERT_TRUE(c.status.ok() && r != nullptr) << c.status.ToString();
      seen.push_back(r->device_copy.signal_offset());
    }
  });
  for (int i = 0; i < 50; ++i) store->Submit(Append("m" + std::to_string(i)));
  auto done = Collect(*store, 50);
  ASSERT_EQ(done.size(), 50u);
  for (const auto& c : done) {
    EXPECT_TRUE(c.status.ok());
    EXPECT_TRUE(std::holds_alternative<std::monostate>(c.result)) << "the worker kept the result";
  }
  EXPECT_TRUE(other_thread.load());
  ASSERT_EQ(seen.size(), 50u) << "each completion once";
  for (int i = 0; i < 50; ++i) EXPECT_EQ(seen[i], i + 1);
}

// No commit carries more than max_batch requests; order and offsets hold
// across the split.
TEST_F(ThreadedStoreTest, BatchesAreCapped) {
  auto store = Make(10);
  for (int i = 0; i < 100; ++i) store->Submit(Append("m" + std::to_string(i)));
  auto done = Collect(*store, 100);
  ASSERT_EQ(done.size(), 100u);
  ExpectAppendedInOrder(done);
  EXPECT_GE(store->commit_stats().commits, 10u);
}

TEST_F(ThreadedStoreTest, DuplicatesAcrossBatchesAreDetected) {
  auto store = Make();
  store->Submit(Append("same"));
  ASSERT_EQ(Collect(*store, 1).size(), 1u);
  store->Submit(Append("same"));
  auto done = Collect(*store, 1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(std::get<AppendResult>(done[0].result).duplicate);
}

TEST_F(ThreadedStoreTest, DestructorCommitsWhatWasSubmitted) {
  {
    auto store = Make();
    for (int i = 0; i < 50; ++i) store->Submit(Append("m" + std::to_string(i)));
  }  // nothing collected
  EXPECT_EQ(HeadOnDisk("bob"), 50);
}

// With Start::kAtRelease (the plugin's mode: it releases once per loop
// round) an idle worker waits for Release(), then commits everything held
// in one transaction.
TEST_F(ThreadedStoreTest, AtReleaseAnIdleWorkerWaitsAndCommitsAllHeldInOne) {
  auto store = Make(ThreadedStore::kDefaultMaxBatch, {}, ThreadedStore::Start::kAtRelease);
  for (int i = 0; i < 30; ++i) store->Submit(Append("m" + std::to_string(i)));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(store->commit_stats().commits, 0u) << "the worker started before Release()";
  EXPECT_TRUE(store->Flush().empty());
  EXPECT_EQ(store->pending(), 30u);
  store->Release();
  auto done = Collect(*store, 30);
  ASSERT_EQ(done.size(), 30u);
  ExpectAppendedInOrder(done);
  EXPECT_EQ(store->commit_stats().commits, 1u);
}

// A worker that ends a commit takes what was submitted meanwhile without
// waiting for Release(): holding it back would cost those requests a whole
// commit more. The finish hook holds the first commit open while more
// requests arrive.
TEST_F(ThreadedStoreTest, AtReleaseABusyWorkerTakesWhatQueuedMeanwhile) {
  std::promise<void> entered, go;
  auto go_future = go.get_future().share();
  std::atomic<int> batches{0};
  auto store = Make(
      ThreadedStore::kDefaultMaxBatch,
      [&](std::vector<Completion>&) {
        if (batches++ == 0) {
          entered.set_value();
          // Bounded, so that a failing test still ends (the destructor joins the worker).
          go_future.wait_for(std::chrono::seconds(10));
        }
      },
      ThreadedStore::Start::kAtRelease);
  store->Submit(Append("first"));
  store->Release();
  ASSERT_EQ(entered.get_future().wait_for(std::chrono::seconds(10)), std::future_status::ready);
  for (int i = 0; i < 10; ++i) store->Submit(Append("m" + std::to_string(i)));  // never released
  go.set_value();
  auto done = Collect(*store, 11);
  ASSERT_EQ(done.size(), 11u) << "requests queued during a commit waited for a Release()";
  // With a finish hook the results stay on the worker: statuses only.
  for (const auto& c : done) EXPECT_TRUE(c.status.ok()) << c.status.ToString();
  EXPECT_EQ(store->commit_stats().commits, 2u);
  EXPECT_EQ(batches.load(), 2);
}

TEST_F(ThreadedStoreTest, AtReleaseTheDestructorCommitsWhatWasNeverReleased) {
  {
    auto store = Make(ThreadedStore::kDefaultMaxBatch, {}, ThreadedStore::Start::kAtRelease);
    for (int i = 0; i < 50; ++i) store->Submit(Append("m" + std::to_string(i)));
  }
  EXPECT_EQ(HeadOnDisk("bob"), 50);
}

}  // namespace
}  // namespace courier::storage
