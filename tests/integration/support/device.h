// CourierDevice: one device (MQTT client id) of one user (MQTT username),
// speaking the Courier protocol over a TestClient.
//
// Ownership: owns its TestClient. Threads: main test thread only (the
// TestClient's network thread only fills the queue). Failures: actions
// return AssertionResult; Next*() waits return std::nullopt on timeout and
// never throw.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "support/mqtt_client.h"
#include "support/wire.h"

namespace courier::it {

class CourierDevice {
 public:
  template <typename T>
  using Match = std::function<bool(const T&)>;

  CourierDevice(int port, std::string user, std::string device);

  // Connects and subscribes to the user's inbox and events topics and to
  // this device's own inbox and events topics (protocol.md §2).
  ::testing::AssertionResult Connect(bool clean_session = true);
  // Disconnects, connects again with the same client id (and port, unless a
  // new one is given) and subscribes again.
  ::testing::AssertionResult Reconnect(std::optional<int> port = std::nullopt);
  void Disconnect() { client_.Disconnect(); }
  // Log in with this password from the next Connect() on (brokers with a
  // password_file or dynamic security; clean sessions). Empty: no password.
  void set_password(std::string password) { password_ = std::move(password); }

  // Publishes to P/{user}/send and P/{user}/signal (QoS 1, waits for PUBACK).
  ::testing::AssertionResult Send(const v1::Message& m);
  ::testing::AssertionResult Signal(const v1::Signal& s);
  ::testing::AssertionResult SendRaw(const std::string& bytes);
  ::testing::AssertionResult SignalRaw(const std::string& bytes);

  // Waits for the first Message / Signal on the given topic kind that
  // matches `match` (default: any), removes and returns it.
  std::optional<v1::Message> NextInbox(const Match<v1::Message>& match = {}, std::chrono::milliseconds timeout = kWait);
  std::optional<v1::Message> NextDeviceInbox(const Match<v1::Message>& match = {},
                                             std::chrono::milliseconds timeout = kWait);
  std::optional<v1::Signal> NextEvent(const Match<v1::Signal>& match = {}, std::chrono::milliseconds timeout = kWait);
  std::optional<v1::Signal> NextDeviceEvent(const Match<v1::Signal>& match = {},
                                            std::chrono::milliseconds timeout = kWait);

  // Waits for `n` Messages on this device's own inbox, in arrival order.
  std::vector<v1::Message> DeviceInboxBatch(size_t n, std::chrono::milliseconds timeout = kWait);

  // Removes and decodes everything queued now on one topic kind.
  std::vector<v1::Message> DrainInbox();
  std::vector<v1::Message> DrainDeviceInbox();
  std::vector<v1::Signal> DrainEvents();
  std::vector<v1::Signal> DrainDeviceEvents();

  // Everything still queued, decoded, one per line (for failure messages).
  std::string Pending() const;

  TestClient& client() { return client_; }
  const std::string& user() const { return user_; }
  const std::string& device() const { return device_; }
  std::string inbox() const { return InboxTopic(user_); }
  std::string events() const { return EventsTopic(user_); }
  std::string device_inbox() const { return DeviceInboxTopic(user_, device_); }
  std::string device_events() const { return DeviceEventsTopic(user_, device_); }

 private:
  std::optional<v1::Message> NextMessageOn(const std::string& topic, const Match<v1::Message>& match,
                                           std::chrono::milliseconds timeout);
  std::optional<v1::Signal> NextSignalOn(const std::string& topic, const Match<v1::Signal>& match,
                                         std::chrono::milliseconds timeout);

  int port_;
  std::string user_;
  std::string device_;
  std::string password_;
  TestClient client_;
};

}  // namespace courier::it
