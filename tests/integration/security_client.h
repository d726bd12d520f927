// SecClient: an MQTT client for the security tests. Unlike the harness's
// TestClient it logs in with a password, speaks MQTT 3.1.1 or 5, and reports
// what the broker answered: the CONNACK code, each SUBACK reason code (0x80
// for a refusal on 3.1.1, 0x87 on 5) and each PUBACK/PUBREC reason code (5
// only: 0x87 for a refusal; 3.1.1 has none and always reports 0).
//
// Ownership: owns its `struct mosquitto*` (destroyed by Disconnect() and the
// destructor). Threads: the public methods are for the test's main thread;
// libmosquitto callbacks run on the client's network thread and only fill the
// mutex-guarded state. Failures: methods return AssertionResult and never
// throw; waits return what they found.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/mqtt_client.h"  // Received, kWait

struct mosquitto;
struct mosquitto_message;
typedef struct mqtt5__property mosquitto_property;

namespace courier::it {

inline constexpr int kMqtt311 = 4;
inline constexpr int kMqtt5 = 5;

// MQTT 5 reason codes the tests look for.
inline constexpr int kRcNotAuthorized = 0x87;
inline constexpr int kRcNoMatchingSubscribers = 0x10;
// MQTT 3.1.1 SUBACK return code for a refused subscription.
inline constexpr int kSubackFailure311 = 0x80;

struct Login {
  std::string username;  // empty: no username (anonymous)
  std::string password;  // empty: no password
  std::string client_id;
  int protocol = kMqtt311;
};

class SecClient {
 public:
  using Predicate = std::function<bool(const Received&)>;

  SecClient();
  ~SecClient();
  SecClient(const SecClient&) = delete;
  SecClient& operator=(const SecClient&) = delete;

  // Connects and waits for the CONNACK. *connack gets its code (0 = accepted)
  // when given; without it, a refusal is a failure.
  ::testing::AssertionResult Connect(int port, const Login& login, int* connack = nullptr);
  void Disconnect();

  // Subscribes and stores the SUBACK's reason code (granted QoS, or a failure).
  ::testing::AssertionResult Subscribe(const std::string& filter, int qos, int* reason);
  // Subscribes and fails unless the broker granted it.
  ::testing::AssertionResult SubscribeOk(const std::string& filter, int qos = 1);
  // Publishes; for QoS 1/2 waits for PUBACK/PUBREC(+PUBCOMP) and stores its
  // reason code (always 0 on 3.1.1). QoS 0: *reason is 0 once sent.
  ::testing::AssertionResult Publish(const std::string& topic, const std::string& bytes, int qos,
                                     int* reason);

  std::optional<Received> WaitFor(const Predicate& pred, std::chrono::milliseconds timeout = kWait);
  std::vector<Received> DrainAll();

  const Login& login() const { return login_; }

 private:
  static void OnConnect(struct mosquitto*, void* self, int rc, int flags, const mosquitto_property*);
  static void OnPublish(struct mosquitto*, void* self, int mid, int reason, const mosquitto_property*);
  static void OnSubscribe(struct mosquitto*, void* self, int mid, int count, const int* granted,
                          const mosquitto_property*);
  static void OnMessage(struct mosquitto*, void* self, const struct mosquitto_message* msg,
                        const mosquitto_property*);

  struct mosquitto* mosq_ = nullptr;
  bool loop_running_ = false;
  Login login_;

  std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_.
  int connack_ = -1;
  std::map<int, int> pub_reasons_;  // mid -> reason code
  std::map<int, int> sub_reasons_;  // mid -> first reason code
  std::deque<Received> queue_;
};

// Runs `argv` (argv[0] is a path) and waits for it by pid; true when it
// exited with status 0.
bool RunAndWait(const std::vector<std::string>& argv, std::string* output);

}  // namespace courier::it
