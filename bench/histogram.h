// Latency histogram for the load generator: log-linear buckets (64 per power
// of two, so a reported percentile is within 1.6% of the true value), fixed
// size, mergeable by adding counts. Values are nanoseconds.
// Not thread-safe: one per worker, merged afterwards.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace courier::bench {

class Histogram {
 public:
  static constexpr int kSubBits = 6;  // 64 sub-buckets per octave
  static constexpr int kMaxExp = 42;  // up to 2^42 ns (about 73 min)
  static constexpr int kBuckets = (kMaxExp - kSubBits + 2) << kSubBits;

  void Record(int64_t ns);
  void Merge(const Histogram& other);

  uint64_t count() const { return count_; }
  int64_t max() const { return max_; }
  int64_t min() const { return count_ ? min_ : 0; }
  double mean() const { return count_ ? double(sum_) / double(count_) : 0.0; }
  // q in [0, 1]; returns nanoseconds (0 when empty). q = 1 returns the exact max.
  int64_t Percentile(double q) const;

 private:
  static int Index(uint64_t v);
  static uint64_t UpperValue(int index);

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  int64_t sum_ = 0;
  int64_t min_ = INT64_MAX;
  int64_t max_ = 0;
};

// "1.23 ms", "456 µs": short human form of a duration in ns.
std::string FormatNs(int64_t ns);

}  // namespace courier::bench
