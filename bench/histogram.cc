#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>

namespace courier::bench {

int Histogram::Index(uint64_t v) {
  constexpr uint64_t kSub = uint64_t{1} << kSubBits;
  if (v < kSub) return static_cast<int>(v);
  const int exp = 63 - std::countl_zero(v);  // >= kSubBits
  if (exp > kMaxExp) return kBuckets - 1;
  const int sub = static_cast<int>((v >> (exp - kSubBits)) & (kSub - 1));
  return ((exp - kSubBits + 1) << kSubBits) + sub;
}

uint64_t Histogram::UpperValue(int index) {
  constexpr int kSub = 1 << kSubBits;
  if (index < kSub) return static_cast<uint64_t>(index);
  const int exp = (index >> kSubBits) + kSubBits - 1;
  const uint64_t sub = static_cast<uint64_t>(index & (kSub - 1));
  const uint64_t low = (uint64_t{1} << exp) | (sub << (exp - kSubBits));
  return low + (uint64_t{1} << (exp - kSubBits)) - 1;
}

void Histogram::Record(int64_t ns) {
  if (ns < 0) ns = 0;
  ++counts_[Index(static_cast<uint64_t>(ns))];
  ++count_;
  sum_ += ns;
  min_ = std::min(min_, ns);
  max_ = std::max(max_, ns);
}

void Histogram::Merge(const Histogram& o) {
  for (int i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
  count_ += o.count_;
  sum_ += o.sum_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
}

int64_t Histogram::Percentile(double q) const {
  if (count_ == 0) return 0;
  if (q >= 1.0) return max_;
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * double(count_))));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min<int64_t>(static_cast<int64_t>(UpperValue(i)), max_);
  }
  return max_;
}

std::string FormatNs(int64_t ns) {
  char buf[32];
  if (ns < 1000) {
    std::snprintf(buf, sizeof buf, "%lld ns", static_cast<long long>(ns));
  } else if (ns < 1000000) {
    std::snprintf(buf, sizeof buf, "%.0f µs", ns / 1e3);
  } else if (ns < 1000000000) {
    std::snprintf(buf, sizeof buf, "%.2f ms", ns / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f s", ns / 1e9);
  }
  return buf;
}

}  // namespace courier::bench
