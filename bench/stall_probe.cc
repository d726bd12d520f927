#include "stall_probe.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>

namespace courier::bench {
namespace {

int64_t MonotonicNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

void Stalls::Add(int64_t late_ns) {
  ++wakeups;
  worst_ns = std::max(worst_ns, late_ns);
  if (late_ns >= kStallNs) {
    ++stalls;
    stalled_ns += late_ns;
  }
}

void StallProbe::Start() {
  if (thread_.joinable()) return;
  stop_.store(false);
  seen_ = Stalls{};
  thread_ = std::thread([this] {
    sched_param prio{};
    prio.sched_priority = 1;
    seen_.realtime = ::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &prio) == 0;
    const timespec period{0, kPeriodNs};
    while (!stop_.load(std::memory_order_relaxed)) {
      const int64_t before = MonotonicNs();
      ::clock_nanosleep(CLOCK_MONOTONIC, 0, &period, nullptr);
      seen_.Add(std::max<int64_t>(0, MonotonicNs() - before - kPeriodNs));
    }
  });
}

Stalls StallProbe::Stop() {
  if (!thread_.joinable()) return seen_;
  stop_.store(true);
  thread_.join();
  return seen_;
}

}  // namespace courier::bench
