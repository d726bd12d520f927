// Stats: counters of what the plugin did, for getStats and the periodic log
// line. The Engine counts protocol events; the shell counts commits.
//
// Thread: broker thread only, like everything that touches it.
#pragma once

#include <array>
#include <cstdint>

#include "error_code.h"

namespace courier::core {

struct Stats {
  uint64_t accepted = 0;     // messages stored
  uint64_t duplicates = 0;   // repeats answered with the original ack
  uint64_t deliveries = 0;   // copies published to inboxes (live and pulled)
  uint64_t receipts = 0;     // receipts that changed some state
  uint64_t expired = 0;      // copies expired before anyone received them
  uint64_t trimmed = 0;      // entries removed by retention
  uint64_t relayed = 0;      // activity signals and transient messages relayed
  std::array<uint64_t, static_cast<size_t>(ErrorCode::kCount)> errors{};  // by code

  uint64_t commits = 0;          // store flushes that had work
  uint64_t commit_us_total = 0;  // time spent in them
  uint64_t commit_us_max = 0;
  uint64_t last_commit_us = 0;

  // Heap bytes the whole broker process has allocated and not freed (glibc
  // mallinfo2: uordblks + hblkhd), set by the shell just before it answers
  // an admin request. Unlike RSS it leaves out memory the allocator keeps
  // after a burst. 0 when unknown (also under AddressSanitizer, whose
  // allocator glibc's counters do not see).
  uint64_t heap_in_use_bytes = 0;

  void CountError(ErrorCode code) { ++errors[static_cast<size_t>(code)]; }
};

}  // namespace courier::core
