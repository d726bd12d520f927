// AsyncDevice: one device's MQTT connection, driven by the test's own loop.
//
// The crash and backup tests keep several clients busy at once while the
// broker is killed under them. TestClient blocks on every publish and runs a
// network thread; AsyncDevice does neither: the test calls PumpAll() in its
// loop, which waits on every device's socket and does the I/O. Every
// callback runs inside PumpAll(), on the test's thread.
//
// Ownership: owns its `struct mosquitto*`; each Connect() makes a fresh
// handle, so nothing libmosquitto queued on a lost connection is resent
// behind the test's back (the test's own retry logic does that, and counts
// it). Threads: the test's main thread only. Failures: nothing throws;
// Connect() and Publish() return false, a lost connection shows as
// !alive(); KeepConnected() reconnects with exponential backoff.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "support/mqtt_client.h"

struct mosquitto;
struct mosquitto_message;

namespace courier::it {

class AsyncDevice {
 public:
  using Clock = std::chrono::steady_clock;

  // `topics`: what to subscribe to (QoS 1) after every connect.
  AsyncDevice(std::string user, std::string device, std::vector<std::string> topics);
  ~AsyncDevice();
  AsyncDevice(const AsyncDevice&) = delete;
  AsyncDevice& operator=(const AsyncDevice&) = delete;

  // Drops any previous connection, creates a fresh handle and connects
  // (MQTT 3.1.1, clean session) to 127.0.0.1:port. The TCP connect to
  // loopback is the only blocking step; CONNACK and SUBACK arrive through
  // PumpAll(). False when the TCP connect failed (broker down).
  bool Connect(int port);
  // Closes the connection (if any) and frees the handle.
  void Drop();
  // When the connection is gone, reconnects: first at once, then after
  // 20 ms, doubling up to 320 ms between failed attempts; the delay resets
  // once a connection became ready.
  void KeepConnected(int port);

  // True once CONNACK accepted the connection and every subscription was
  // acknowledged; false again once the connection is lost.
  bool ready() const { return ready_; }
  // True while there is a connection that was not lost (ready or not yet).
  bool alive() const { return mosq_ != nullptr && !lost_; }
  // True once after each time the device became ready: the moment to
  // resend what is unacknowledged and to pull.
  bool TakeJustReady();

  // Queues a QoS 1 publish (non-blocking). False when not ready.
  bool Publish(const std::string& topic, const std::string& bytes);
  // Everything received since the last call, in arrival order.
  std::vector<Received> Take();

  const std::string& user() const { return user_; }
  const std::string& device() const { return device_; }
  int connects() const { return connects_; }
  // Connection attempts of KeepConnected() that failed at once (broker down).
  int connect_failures() const { return connect_failures_; }

 private:
  friend void PumpAll(const std::vector<AsyncDevice*>& devices, std::chrono::milliseconds timeout);
  int socket() const;
  bool want_write() const;
  // Does the I/O the socket is ready for, plus keepalive housekeeping.
  void Service(bool readable, bool writable);

  static void OnConnect(struct mosquitto*, void* self, int rc);
  static void OnDisconnect(struct mosquitto*, void* self, int rc);
  static void OnSubscribe(struct mosquitto*, void* self, int mid, int count, const int* granted);
  static void OnMessage(struct mosquitto*, void* self, const struct mosquitto_message* msg);

  std::string user_;
  std::string device_;
  std::vector<std::string> topics_;
  struct mosquitto* mosq_ = nullptr;
  bool lost_ = false;
  bool ready_ = false;
  bool just_ready_ = false;
  int pending_subacks_ = 0;
  int connects_ = 0;
  int connect_failures_ = 0;
  std::chrono::milliseconds backoff_{0};
  Clock::time_point next_attempt_{};
  std::vector<Received> received_;
};

// Waits up to `timeout` until some device's socket is readable (or writable,
// when it has something to write), then services every device. Devices
// without a connection are skipped; with none at all it just sleeps.
void PumpAll(const std::vector<AsyncDevice*>& devices, std::chrono::milliseconds timeout);

}  // namespace courier::it
