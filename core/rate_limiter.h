// RateLimiter: one token bucket per client id. Pure state, no clock of its
// own: the caller passes the time, so tests drive it directly.
//
// Thread: not thread-safe; the shell uses it on the broker thread.
// Memory: one small record per client that published recently; Sweep()
// drops buckets that have refilled completely, which are the same as new.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace courier::core {

class RateLimiter {
 public:
  // rate_per_s 0 disables the limiter (Allow always true). burst 0 means
  // twice the rate, at least 1.
  RateLimiter(uint32_t rate_per_s, uint32_t burst);

  // Takes one token from `client`'s bucket; false when it is empty.
  bool Allow(std::string_view client, int64_t now_ms);

  // Forgets buckets that are full at `now_ms`.
  void Sweep(int64_t now_ms);

  size_t size() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens;
    int64_t updated_ms;
  };
  double Refilled(const Bucket& b, int64_t now_ms) const;

  double rate_per_ms_;
  double burst_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace courier::core
