// ThreadedStore: runs another Store on a worker thread of its own, so the
// broker thread never waits for a commit (fsync) to finish.
//
// Submit() queues and returns at once. The worker takes everything queued
// (with Start::kAtRelease, an idle worker waits for Release()), up to
// max_batch requests, hands it to the inner store as one batch (one
// commit), and keeps the completions until Flush() collects them. Whatever
// arrives while a commit runs forms the next batch, so batches grow with
// the load; the cap bounds one commit's dirty pages, which LMDB keeps
// allocated for later transactions, and the wait of the requests inside it.
//
// Ownership: owns the inner store, which the worker destroys no earlier
// than the destructor's join.
// Thread: Submit, Release, Flush, pending and commit_stats are for one
// caller thread (the broker thread); the inner store is touched only by the
// worker.
// `wake` runs on the worker after a batch is done, and again every
// millisecond while completions wait uncollected: it must be safe to call
// from another thread (the plugin interrupts the broker's epoll_wait).
// `finish`, when set, runs on the worker with each committed batch, before
// Flush() can return it and before `wake`: the caller does there the work
// that a completion causes (the plugin builds and serializes its
// publishes). The worker then keeps each completion's request and result
// and frees them after `wake`, so Flush() returns the completions of such a
// store with their status only (result std::monostate). An exception out of
// `finish` is swallowed: `finish` must catch and report its own failures.
// The destructor finishes what was submitted, then joins the worker;
// completions not collected by then are dropped (they were committed).
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "store.h"

namespace courier::storage {

class ThreadedStore final : public Store {
 public:
  static constexpr size_t kDefaultMaxBatch = 1024;
  // How many requests the spare queue keeps room for between batches (about
  // 400 B each): enough for a batch at saturation without reallocating,
  // small enough that a burst's room (a fill keeps thousands in flight) is
  // given back.
  static constexpr size_t kKeptQueueRoom = 256;
  using Finish = std::function<void(std::vector<Completion>& batch)>;
  // When an idle worker starts: at the first Submit(), or at the next
  // Release(). A worker that ends a commit takes whatever is queued either
  // way, and everything is taken once the store is being destroyed.
  enum class Start { kAtSubmit, kAtRelease };
  ThreadedStore(std::unique_ptr<Store> inner, std::function<void()> wake, size_t max_batch = kDefaultMaxBatch,
                Finish finish = {}, Start start = Start::kAtSubmit);
  ~ThreadedStore() override;

  void Submit(Request request) override;
  // With Start::kAtRelease: hands an idle worker everything submitted so
  // far. The plugin calls it once per loop round, at TICK (and from its
  // fallback while ticks are missing), so that an idle worker does not
  // start a commit on the first message of a round alone. Does nothing
  // with kAtSubmit.
  void Release();
  // The completions finished so far; never blocks on the disk.
  std::vector<Completion> Flush() override;
  size_t pending() const override;
  StoreStats commit_stats() const override;

 private:
  void Run();
  // How many of in_'s requests the worker may take now; mu_ held.
  size_t Ready() const;

  std::unique_ptr<Store> inner_;
  std::function<void()> wake_;
  const size_t max_batch_;
  Finish finish_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Submitted, not yet taken by the worker. Vectors, not deques, so that a
  // Submit() allocates nothing once the capacity has grown: the worker
  // swaps in_ with spare_ and hands the batch's capacity back to spare_
  // (up to kKeptQueueRoom requests; a burst's larger room is freed).
  std::vector<Request> in_;
  std::vector<Request> spare_;
  size_t released_ = 0;           // kAtRelease: how many of in_ the worker may take now
  std::vector<Completion> done_;  // committed, not yet collected
  size_t in_flight_ = 0;          // submitted and not yet collected
  StoreStats stats_;
  const Start start_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace courier::storage
