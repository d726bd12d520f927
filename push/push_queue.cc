#include "push_queue.h"

#include <algorithm>
#include <limits>

namespace courier::push {

void PushQueue::Add(storage::PushDue due, int64_t now_ms) {
  Device& d = devices_[{due.user, due.device}];
  if (d.items.empty()) d.first_ms = now_ms;
  // The registration is the device's, not each push's: a token can be
  // kilobytes, and a lagging gateway leaves thousands of pushes queued.
  d.app = std::move(due.app);
  d.token = std::move(due.token);
  due.app.clear();
  due.token.clear();
  d.items.emplace(due.offset, std::move(due));
}

void PushQueue::Received(const std::string& user, int32_t offset) {
  for (auto it = devices_.lower_bound({user, std::string()}); it != devices_.end() && it->first.first == user;) {
    it->second.items.erase(offset);
    if (it->second.items.empty() && !it->second.in_flight) {
      it = devices_.erase(it);
    } else {
      ++it;
    }
  }
}

int64_t PushQueue::DueAt(const Device& d) const {
  return std::max(d.first_ms + policy_.coalesce_ms, d.next_attempt_ms);
}

std::optional<PushBatch> PushQueue::Next(int64_t now_ms) {
  for (auto& [key, d] : devices_) {
    if (d.in_flight || d.items.empty() || DueAt(d) > now_ms) continue;
    d.in_flight = true;
    PushBatch b{key.first, key.second, {}};
    for (const auto& [offset, item] : d.items) b.items.push_back(item);
    b.items.back().app = d.app;
    b.items.back().token = d.token;
    return b;
  }
  return std::nullopt;
}

std::optional<int64_t> PushQueue::NextDue() const {
  std::optional<int64_t> best;
  for (const auto& [key, d] : devices_) {
    if (d.in_flight || d.items.empty()) continue;
    const int64_t at = DueAt(d);
    if (!best || at < *best) best = at;
  }
  return best;
}

Settled PushQueue::Settle(const PushBatch& batch, PushAnswer answer, int64_t now_ms) {
  Settled out;
  auto it = devices_.find({batch.user, batch.device});
  if (it == devices_.end()) return out;
  Device& d = it->second;
  d.in_flight = false;
  if (answer == PushAnswer::kRetry) {
    int64_t oldest = std::numeric_limits<int64_t>::max();
    for (const auto& item : batch.items) oldest = std::min(oldest, item.created_ms);
    if (now_ms - oldest <= policy_.max_age_ms) {
      d.backoff_ms =
          d.backoff_ms == 0 ? policy_.backoff_initial_ms : std::min(2 * d.backoff_ms, policy_.backoff_max_ms);
      d.next_attempt_ms = now_ms + d.backoff_ms;
      return out;
    }
    out.gave_up = true;
  }
  for (const auto& item : batch.items) {
    out.done.push_back({item.user, item.device, item.offset});
    d.items.erase(item.offset);
  }
  out.unregister = answer == PushAnswer::kRejected;
  d.backoff_ms = 0;
  d.next_attempt_ms = 0;
  d.first_ms = now_ms;  // what came meanwhile coalesces from now
  if (out.unregister || d.items.empty()) devices_.erase(it);
  return out;
}

size_t PushQueue::size() const {
  size_t n = 0;
  for (const auto& [key, d] : devices_) n += d.items.size();
  return n;
}

}  // namespace courier::push
