// Machine stalls during a run: a thread that sleeps kPeriod at a time and
// counts how late it wakes. On the shared VMs this bench runs on, the whole
// machine sometimes stops for about 100 ms under load (docs/benchmark.md,
// "Machine stalls"). Every message in flight then waits that long, so a run
// with such stalls reports the machine's p99, not the broker's.
//
// The probe thread asks for SCHED_FIFO (root only), so that it preempts the
// brokers and the generator when it wakes and measures the machine, not the
// competition for the two cores. Without it a sleeping thread waited up to
// 12.5 ms for a core beside a saturated Courier broker; hence the threshold.
//
// Stalls (the pure accounting, tested in tests/unit/stall_probe_test.cc) and
// StallProbe (the thread). Start() and Stop() are called from one thread;
// the probe's own thread only touches its Stalls until Stop() joins it.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

namespace courier::bench {

struct Stalls {
  // A wake-up this late or later counts as a stall: above what a thread
  // without real-time priority waits for a busy core, far below the 100 ms
  // stalls of the machine.
  static constexpr int64_t kStallNs = 20'000'000;
  // A run is disturbed when stalls add up to this share of its window: a
  // stall of s delays every message sent during it by up to s, so stalls
  // worth 1 % of the window can set the p99 alone; half of that already
  // moves it.
  static constexpr double kDisturbedShare = 0.005;

  int64_t wakeups = 0;
  int64_t stalls = 0;      // wake-ups at least kStallNs late
  int64_t stalled_ns = 0;  // the lateness of those, summed
  int64_t worst_ns = 0;    // the latest wake-up
  bool realtime = false;   // the probe ran with SCHED_FIFO

  void Add(int64_t late_ns);
  bool Disturbed(double window_s) const { return window_s > 0 && stalled_ns >= kDisturbedShare * window_s * 1e9; }
};

class StallProbe {
 public:
  static constexpr int64_t kPeriodNs = 2'000'000;

  StallProbe() = default;
  StallProbe(const StallProbe&) = delete;
  StallProbe& operator=(const StallProbe&) = delete;
  ~StallProbe() { Stop(); }

  void Start();
  // Joins the thread; returns what it saw (all zero if never started).
  Stalls Stop();

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
  Stalls seen_;
};

}  // namespace courier::bench
