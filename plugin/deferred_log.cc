#include "deferred_log.h"

extern "C" {
#include <mosquitto.h>
#include <mosquitto_broker.h>
}

namespace courier::plugin {

void DeferredLog::Add(int level, std::string line) {
  std::lock_guard lock(mu_);
  if (lines_.size() < kMaxQueued) {
    lines_.emplace_back(level, std::move(line));
  } else {
    ++dropped_;
  }
  any_.store(true, std::memory_order_release);
}

void DeferredLog::Drain() {
  if (!any_.load(std::memory_order_acquire)) return;
  std::vector<std::pair<int, std::string>> lines;
  size_t dropped = 0;
  {
    std::lock_guard lock(mu_);
    lines.swap(lines_);
    dropped = dropped_;
    dropped_ = 0;
    any_.store(false, std::memory_order_release);
  }
  for (const auto& [level, line] : lines) mosquitto_log_printf(level, "courier: %s", line.c_str());
  if (dropped > 0) mosquitto_log_printf(MOSQ_LOG_WARNING, "courier: %zu more log lines dropped", dropped);
}

}  // namespace courier::plugin
