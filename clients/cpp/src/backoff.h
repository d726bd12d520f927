// Exponential backoff with jitter, shared by the connection (reconnect) and
// the Session (send, pull and receipt retries). Pure: the randomness comes in
// as a number, so that conformance traces can run without jitter.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "courier/client.h"

namespace courier::client::detail {

// The delay before retry number `failures` (0, 1, ...), in ms:
// min(initial * 2^failures, max), times a jitter factor of 0.8 .. 1.2 taken
// from `random01` in [0, 1) (0.5: no jitter).
inline int64_t BackoffDelayMs(const Backoff& b, int failures, double random01) {
  double ms = static_cast<double>(b.initial.count());
  const double max = static_cast<double>(b.max.count());
  for (int i = 0; i < failures && ms < max; ++i) ms *= 2;
  ms = std::min(ms, max);
  return std::llround(ms * (0.8 + 0.4 * random01));
}

}  // namespace courier::client::detail
