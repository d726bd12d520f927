#include "loop_kicker.h"

#include <utility>

namespace courier::plugin {

LoopKicker::LoopKicker(std::function<void()> wake, std::chrono::microseconds interval)
    : wake_(std::move(wake)), interval_(interval), thread_([this] { Run(); }) {}

LoopKicker::~LoopKicker() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void LoopKicker::Tick() {
  std::lock_guard lock(mu_);
  ++ticks_;
}

void LoopKicker::Published() {
  bool was_idle;
  {
    std::lock_guard lock(mu_);
    was_idle = ticks_ >= until_;
    until_ = ticks_ + 2;
  }
  if (was_idle) cv_.notify_one();
}

uint64_t LoopKicker::kicks() const {
  std::lock_guard lock(mu_);
  return kicks_;
}

void LoopKicker::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || ticks_ < until_; });
    if (stop_) return;
    // Sleep first: the broker thread is usually still running the tick that
    // published, and a signal that arrives outside epoll_wait is wasted.
    cv_.wait_for(lock, interval_, [&] { return stop_; });
    if (stop_) return;
    if (ticks_ < until_) {
      ++kicks_;
      lock.unlock();
      wake_();
      lock.lock();
    }
  }
}

}  // namespace courier::plugin
