// LoopKicker: gets what the plugin publishes to WebSocket clients written
// promptly instead of up to 100 ms later.
//
// Why: Mosquitto 2.0 (src/loop.c) queues a plugin's publish and hands it to
// the subscribers at the top of the next loop round. A TCP subscriber's
// packet is written there and then. A WebSocket subscriber's packet only
// asks libwebsockets for a writable callback, and libwebsockets writes it in
// the lws_service() call that comes after the loop's epoll_wait, which
// sleeps up to 100 ms when no socket is ready. So after each publish, the
// kicker interrupts that epoll_wait with the plugin's wake signal, every
// `interval`, until the broker thread has started two more ticks: by the
// second, the round that wrote the packet is over.
//
// Threads: Tick() runs on the broker thread, Published() on any thread (the
// broker thread, and the hint thread of cross-edge delivery after it put
// publishes in the outbox: edge_delivery.h); `wake` runs on
// the kicker's own thread. The destructor stops and joins it. Nothing throws
// after construction.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace courier::plugin {

class LoopKicker {
 public:
  LoopKicker(std::function<void()> wake, std::chrono::microseconds interval);
  ~LoopKicker();
  LoopKicker(const LoopKicker&) = delete;
  LoopKicker& operator=(const LoopKicker&) = delete;

  // At the start of every tick.
  void Tick();
  // After publishing something a WebSocket client may receive.
  void Published();

  // How many times `wake` was called (tests and stats).
  uint64_t kicks() const;

 private:
  void Run();

  const std::function<void()> wake_;
  const std::chrono::microseconds interval_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t ticks_ = 0;
  uint64_t until_ = 0;  // kick while ticks_ < until_
  uint64_t kicks_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace courier::plugin
