// Stats: counters of what the plugin did, for getStats and the periodic log
// line. The Engine counts protocol events; the shell counts commits.
//
// Thread: any. The Engine counts on whichever thread runs it (the broker
// thread for inbound publishes, the store's commit thread for completions),
// so every counter is atomic. Readers see a recent value of each; nothing
// orders one counter against another.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "error_code.h"

namespace courier::core {

struct Stats {
  std::atomic<uint64_t> accepted = 0;    // messages stored
  std::atomic<uint64_t> duplicates = 0;  // repeats answered with the original ack
  std::atomic<uint64_t> deliveries = 0;  // copies published to inboxes (live and pulled)
  std::atomic<uint64_t> receipts = 0;    // receipts that changed some state
  std::atomic<uint64_t> expired = 0;     // copies expired before anyone received them
  std::atomic<uint64_t> trimmed = 0;     // entries removed by retention
  std::atomic<uint64_t> relayed = 0;     // activity signals and transient messages relayed
  std::array<std::atomic<uint64_t>, static_cast<size_t>(ErrorCode::kCount)> errors{};  // by code

  std::atomic<uint64_t> commits = 0;          // store flushes that had work
  std::atomic<uint64_t> commit_us_total = 0;  // time spent in them
  std::atomic<uint64_t> commit_us_max = 0;
  std::atomic<uint64_t> last_commit_us = 0;

  // Heap bytes the whole broker process has allocated and not freed (glibc
  // mallinfo2: uordblks + hblkhd), set by the shell just before it answers
  // an admin request. Unlike RSS it leaves out memory the allocator keeps
  // after a burst. 0 when unknown (also under AddressSanitizer, whose
  // allocator glibc's counters do not see).
  std::atomic<uint64_t> heap_in_use_bytes = 0;

  void CountError(ErrorCode code) { errors[static_cast<size_t>(code)].fetch_add(1, std::memory_order_relaxed); }
};

}  // namespace courier::core
