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

void Stalls::Merge(const Stalls& other) {
  wakeups += other.wakeups;
  stalls += other.stalls;
  stalled_ns += other.stalled_ns;
  worst_ns = std::max(worst_ns, other.worst_ns);
  realtime = realtime && other.realtime;
}

void StallProbe::Start() {
  if (!probes_.empty()) return;
  stop_.store(false);
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (::sched_getaffinity(0, sizeof allowed, &allowed) != 0) CPU_SET(0, &allowed);
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) cpus.push_back(cpu);
  }
  probes_ = std::vector<PerCpu>(cpus.size());
  for (size_t i = 0; i < cpus.size(); ++i) {
    probes_[i].thread = std::thread([this, i, cpu = cpus[i]] {
      Stalls& seen = probes_[i].seen;
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      ::pthread_setaffinity_np(::pthread_self(), sizeof one, &one);
      sched_param prio{};
      prio.sched_priority = 1;
      seen.realtime = ::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &prio) == 0;
      const timespec period{0, kPeriodNs};
      while (!stop_.load(std::memory_order_relaxed)) {
        const int64_t before = MonotonicNs();
        ::clock_nanosleep(CLOCK_MONOTONIC, 0, &period, nullptr);
        seen.Add(std::max<int64_t>(0, MonotonicNs() - before - kPeriodNs));
      }
    });
  }
}

Stalls StallProbe::Stop() {
  stop_.store(true);
  Stalls all;
  all.realtime = !probes_.empty();
  for (auto& p : probes_) {
    p.thread.join();
    all.Merge(p.seen);
  }
  probes_.clear();
  return all;
}

}  // namespace courier::bench
