// Machine stalls during a run: threads that sleep kPeriodNs at a time and
// count how late they wake. On the shared VMs this bench runs on, the
// machine (one vCPU or both) sometimes stops for about 100 ms under load
// (docs/benchmark.md, "Machine stalls"). What runs there then waits that
// long, so a run with such stalls reports the machine's p99, not the
// broker's.
//
// One probe thread per CPU, pinned to it: a stall can stop one vCPU only,
// and a single unpinned probe then saw it only when it happened to run there
// (a plain run with p99 53.48 ms and max 102.88 ms, probe worst 3.92 ms).
// Each thread asks for SCHED_FIFO (root only), so that it preempts the
// brokers and the generator when it wakes and measures the machine, not the
// competition for the two cores. Without it a sleeping thread waited up to
// 12.5 ms for a core beside a saturated Courier broker; hence the threshold.
//
// Stalls (the pure accounting, tested in tests/unit/stall_probe_test.cc) and
// StallProbe (the threads). Start() and Stop() are called from one thread;
// each probe thread only touches its own Stalls until Stop() joins it.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

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
  // Another CPU's probe: counts and stalled time add up (a stall on any CPU
  // holds up what runs there), worst is the larger.
  void Merge(const Stalls& other);
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
  // Joins the threads; returns what they saw together (all zero if never
  // started).
  Stalls Stop();

 private:
  struct PerCpu {
    std::thread thread;
    Stalls seen;
  };
  std::atomic<bool> stop_{false};
  std::vector<PerCpu> probes_;
};

}  // namespace courier::bench
