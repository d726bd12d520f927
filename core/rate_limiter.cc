#include "rate_limiter.h"

#include <algorithm>

namespace courier::core {

RateLimiter::RateLimiter(uint32_t rate_per_s, uint32_t burst)
    : rate_per_ms_(rate_per_s / 1000.0), burst_(burst != 0 ? burst : std::max<uint32_t>(1, 2 * rate_per_s)) {}

double RateLimiter::Refilled(const Bucket& b, int64_t now_ms) const {
  const double elapsed = static_cast<double>(std::max<int64_t>(0, now_ms - b.updated_ms));
  return std::min(burst_, b.tokens + elapsed * rate_per_ms_);
}

bool RateLimiter::Allow(std::string_view client, int64_t now_ms) {
  if (rate_per_ms_ <= 0) return true;
  auto [it, inserted] = buckets_.try_emplace(std::string(client), Bucket{burst_, now_ms});
  Bucket& b = it->second;
  b.tokens = Refilled(b, now_ms);
  b.updated_ms = now_ms;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

void RateLimiter::Sweep(int64_t now_ms) {
  std::erase_if(buckets_, [&](const auto& kv) { return Refilled(kv.second, now_ms) >= burst_; });
}

}  // namespace courier::core
