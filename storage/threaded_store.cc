#include "threaded_store.h"

#include <algorithm>
#include <chrono>
#include <iterator>

namespace courier::storage {

// How often the worker repeats its wake-up while completions wait: a wake-up
// can land just before the broker starts waiting and be lost.
constexpr auto kNagInterval = std::chrono::milliseconds(1);

ThreadedStore::ThreadedStore(std::unique_ptr<Store> inner, std::function<void()> wake, size_t max_batch, Finish finish,
                             Start start)
    : inner_(std::move(inner)),
      wake_(std::move(wake)),
      max_batch_(max_batch > 0 ? max_batch : 1),
      finish_(std::move(finish)),
      start_(start),
      worker_([this] { Run(); }) {}

ThreadedStore::~ThreadedStore() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  worker_.join();
}

void ThreadedStore::Submit(Request request) {
  {
    std::lock_guard lk(mu_);
    in_.push_back(std::move(request));
    ++in_flight_;
  }
  if (start_ == Start::kAtSubmit) cv_.notify_one();
}

void ThreadedStore::Release() {
  if (start_ == Start::kAtSubmit) return;
  {
    std::lock_guard lk(mu_);
    if (released_ == in_.size()) return;
    released_ = in_.size();
  }
  cv_.notify_one();
}

size_t ThreadedStore::Ready() const { return start_ == Start::kAtSubmit || stop_ ? in_.size() : released_; }

std::vector<Completion> ThreadedStore::Flush() {
  std::lock_guard lk(mu_);
  std::vector<Completion> out;
  out.swap(done_);
  in_flight_ -= out.size();
  return out;
}

size_t ThreadedStore::pending() const {
  std::lock_guard lk(mu_);
  return in_flight_;
}

StoreStats ThreadedStore::commit_stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

void ThreadedStore::Run() {
  std::unique_lock lk(mu_);
  for (;;) {
    const size_t ready = Ready();
    if (ready == 0) {
      if (stop_) return;
      if (!done_.empty()) {
        // Completions wait for the broker: remind it until it collects them.
        if (!cv_.wait_for(lk, kNagInterval, [&] { return stop_ || Ready() > 0; })) {
          lk.unlock();
          wake_();
          lk.lock();
        }
        continue;
      }
      cv_.wait(lk, [&] { return stop_ || Ready() > 0; });
      continue;
    }
    std::vector<Request> batch;
    const size_t take = std::min(ready, max_batch_);
    if (take == in_.size()) {
      batch.swap(in_);
      in_.swap(spare_);
    } else {
      auto end = in_.begin() + static_cast<std::ptrdiff_t>(take);
      batch.assign(std::make_move_iterator(in_.begin()), std::make_move_iterator(end));
      in_.erase(in_.begin(), end);
    }
    released_ -= std::min(released_, take);
    lk.unlock();
    for (auto& r : batch) inner_->Submit(std::move(r));
    std::vector<Completion> out = inner_->Flush();
    const StoreStats stats = inner_->commit_stats();
    // What `finish` used is freed after the wake, so the broker thread
    // does not wait for it.
    std::vector<Completion> spent;
    if (finish_) {
      try {
        finish_(out);
        spent.reserve(out.size());
        for (auto& c : out) {
          spent.push_back(Completion{std::move(c.request), c.status, std::move(c.result)});
          c.result = std::monostate{};
        }
      } catch (...) {
        // Nothing may escape this thread (it would end the process); the
        // committed completions still go back, and `finish` reports its own
        // failures.
      }
    }
    lk.lock();
    stats_ = stats;
    for (auto& c : out) done_.push_back(std::move(c));
    lk.unlock();
    wake_();
    spent.clear();
    batch.clear();
    lk.lock();
    if (batch.capacity() > spare_.capacity() && batch.capacity() <= kKeptQueueRoom) spare_.swap(batch);
    // A worker that was busy takes what queued up meanwhile, released or
    // not: holding the rest of a round back would only make it wait for a
    // whole commit more.
    released_ = in_.size();
  }
}

}  // namespace courier::storage
