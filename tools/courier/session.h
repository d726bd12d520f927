// Helpers for the commands built on the client library: a record of the
// connection's state, a waitable event for the main thread, stop signals.
// Thread-safe: the library's network thread reports, the main thread waits.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "courier/client.h"

namespace courier::cli {

using Clock = std::chrono::steady_clock;

std::chrono::milliseconds to_ms(double seconds);

// SIGINT and SIGTERM set a flag that Waiter::wait_until notices.
void install_stop_handlers();
bool stop_requested();

// A condition the main thread waits for and handlers signal.
class Waiter {
 public:
  // Runs `fn` under the lock, then wakes the waiting thread.
  void update(const std::function<void()>& fn);
  // Waits until `done()` (evaluated under the lock) is true, the deadline
  // passes or SIGINT/SIGTERM arrives. Returns done()'s last value.
  bool wait_until(const std::function<bool()>& done, std::optional<Clock::time_point> deadline);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
};

// Remembers what the client's connection did; prints changes to stderr after
// the first time it was online (so a listener tells when it reconnects).
class ConnectionWatch {
 public:
  explicit ConnectionWatch(Waiter* waiter = nullptr) : waiter_(waiter) {}
  // `next` with on_connection wrapped to record the events first.
  client::Handlers handlers(client::Handlers next = {});

  bool ever_online() const;
  bool online() const;
  bool failed() const;  // refused for good
  std::string last_reason() const;

 private:
  void on_event(const client::ConnectionEvent& e);

  Waiter* waiter_;
  mutable std::mutex mu_;
  bool ever_online_ = false;
  bool online_ = false;
  bool failed_ = false;
  std::string reason_ = "no connection yet";
};

}  // namespace courier::cli
