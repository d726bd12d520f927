// DeferredLog: log lines written on any thread, printed on the broker
// thread. mosquitto_log_printf may publish to $SYS topics (log_dest topic),
// which is only safe on the broker thread; the store's worker hands its
// lines (connection lost, reconnected) here instead.
//
// Thread: Add() from any thread; Drain() on the broker thread only.
// Both take a mutex; Drain() skips it while nothing is queued.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

namespace courier::plugin {

class DeferredLog {
 public:
  // Keeps at most this many lines between drains; later ones are counted
  // and reported as one line, so a storm cannot grow memory.
  static constexpr size_t kMaxQueued = 1000;

  void Add(int level, std::string line);
  // Prints what is queued with mosquitto_log_printf, oldest first.
  void Drain();

 private:
  std::mutex mu_;
  std::vector<std::pair<int, std::string>> lines_;
  size_t dropped_ = 0;
  std::atomic<bool> any_{false};
};

}  // namespace courier::plugin
