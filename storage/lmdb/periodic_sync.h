// PeriodicSync: forces one file to disk every interval, on a thread of its
// own, when something was written to it since the last time.
//
// For the store's `sync os` mode, where LMDB flushes nothing per commit and
// this sync bounds what a power loss can take back. Run on the commit
// thread, the same fdatasync held up every commit behind it once per
// interval (7-10 ms under load), which doubled sync os's p99 at moderate
// load (docs/benchmark.md); here commits go on while it runs.
//
// Ownership: syncs its own duplicate of the descriptor it is given, so it
// keeps syncing the same file after the caller closes or reopens its own.
// Thread: MarkDirty() and the counters may be called from any thread;
// Stop() and the destructor from the owner only.
// Failure: a failed fdatasync is counted, and the next round tries again.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace courier::storage {

class PeriodicSync {
 public:
  // Throws std::system_error when `fd` cannot be duplicated or the thread
  // cannot start.
  PeriodicSync(int fd, std::chrono::milliseconds interval);
  // Stop(), then closes the duplicate.
  ~PeriodicSync();
  PeriodicSync(const PeriodicSync&) = delete;
  PeriodicSync& operator=(const PeriodicSync&) = delete;

  // Call after each write that must reach the disk: the next round syncs.
  // Lock-free.
  void MarkDirty() { dirty_.store(true, std::memory_order_release); }
  // Ends the thread after one last sync when the file is dirty, so a clean
  // shutdown leaves nothing unsynced. Later calls do nothing.
  void Stop();

  uint64_t syncs() const { return syncs_.load(std::memory_order_relaxed); }
  uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }

 private:
  void Run();
  void SyncIfDirty();

  const std::chrono::milliseconds interval_;
  int fd_ = -1;
  std::atomic<bool> dirty_{false};
  std::atomic<uint64_t> syncs_{0};
  std::atomic<uint64_t> failures_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

}  // namespace courier::storage
