// TestClient: one libmosquitto client connection with a background network
// thread (mosquitto_loop_start) and a queue of everything it receives. It
// speaks MQTT 3.1.1 or 5, may log in with a password, and reports what the
// broker answered: the CONNACK code, SUBACK and PUBACK/PUBREC reason codes.
//
// Ownership: owns its `struct mosquitto*`; Disconnect() and the destructor
// stop the network thread and destroy the handle. The received-message queue
// survives Disconnect()/Reconnect().
// Threads: the public methods are meant for the test's main thread; the
// libmosquitto callbacks run on the network thread and only push into the
// mutex-protected queue / state and notify a condition variable. Callbacks
// never throw.
// Failures: methods that talk to the broker return an AssertionResult
// (wrap them in ASSERT_TRUE); waits return what they found and never throw.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

struct mosquitto;
struct mosquitto_message;
typedef struct mqtt5__property mosquitto_property;

namespace courier::it {

using namespace std::chrono_literals;

// Default time to wait for something that must happen.
inline constexpr std::chrono::milliseconds kWait = 10s;

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

struct Received {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
};

// A copy of what libmosquitto hands a message callback.
Received ReceivedOf(const struct mosquitto_message* msg);

class TestClient {
 public:
  using Predicate = std::function<bool(const Received&)>;

  TestClient();
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  // Connects with a clean session and waits for the CONNACK. *connack gets
  // its code (0 = accepted) when given; without it, a refusal is a failure.
  ::testing::AssertionResult Connect(int port, const Login& login, int* connack = nullptr);
  // Connects (MQTT 3.1.1) with the given username and client id, no password,
  // and waits for a successful CONNACK.
  ::testing::AssertionResult Connect(int port, const std::string& username, const std::string& client_id,
                                     bool clean_session = true);
  // Sends DISCONNECT (if connected), stops the network thread, destroys the
  // handle. Safe to call when the broker is already gone.
  void Disconnect();
  // Disconnect(), then Connect() with the same parameters (optionally a new
  // port, e.g. unchanged after Broker::Restart) and, when the session is
  // clean, subscribes again to every topic subscribed so far.
  ::testing::AssertionResult Reconnect(std::optional<int> port = std::nullopt);

  // Subscribes and waits for the SUBACK; fails if the broker refused (0x80).
  ::testing::AssertionResult Subscribe(const std::string& topic, int qos = 1);
  // Like Subscribe, but reports the granted QoS (0x80 = refused) instead of
  // treating refusal as failure.
  ::testing::AssertionResult SubscribeGranted(const std::string& topic, int qos, int* granted);
  // Publishes and, for QoS > 0, waits until the broker acknowledged it.
  ::testing::AssertionResult Publish(const std::string& topic, const std::string& bytes, int qos = 1);
  // Like Publish, and stores the PUBACK/PUBREC reason code (MQTT 5; always 0
  // on 3.1.1, and for QoS 0 once sent) instead of ignoring it.
  ::testing::AssertionResult Publish(const std::string& topic, const std::string& bytes, int qos, int* reason);

  // Waits for the first queued message matching `pred`, removes it from the
  // queue and returns it. Messages before it stay queued.
  std::optional<Received> WaitFor(const Predicate& pred, std::chrono::milliseconds timeout = kWait);
  // Waits until `n` messages on `topic` are queued, then removes and returns
  // the first `n` of them in arrival order. On timeout returns (and removes)
  // what arrived; callers check the size.
  std::vector<Received> WaitForCount(const std::string& topic, size_t n, std::chrono::milliseconds timeout = kWait);
  // Removes and returns every queued message on `topic`, without waiting.
  std::vector<Received> DrainTopic(const std::string& topic);
  // Removes and returns every queued message, without waiting.
  std::vector<Received> DrainAll();
  // A copy of the queue, without removing anything.
  std::vector<Received> Snapshot() const;

  bool connected() const;
  const Login& login() const { return login_; }
  const std::string& username() const { return login_.username; }
  const std::string& client_id() const { return login_.client_id; }
  int port() const { return port_; }

 private:
  ::testing::AssertionResult Connect(int port, const Login& login, bool clean_session, int* connack);
  static void OnConnect(struct mosquitto*, void* self, int rc, int flags, const mosquitto_property*);
  static void OnDisconnect(struct mosquitto*, void* self, int rc, const mosquitto_property*);
  static void OnPublish(struct mosquitto*, void* self, int mid, int reason, const mosquitto_property*);
  static void OnSubscribe(struct mosquitto*, void* self, int mid, int count, const int* granted,
                          const mosquitto_property*);
  static void OnMessage(struct mosquitto*, void* self, const struct mosquitto_message* msg, const mosquitto_property*);

  struct mosquitto* mosq_ = nullptr;
  bool loop_running_ = false;
  Login login_;
  bool clean_session_ = true;
  int port_ = 0;
  std::vector<std::pair<std::string, int>> subscriptions_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_.
  int connack_rc_ = -1;  // -1: none yet
  bool is_connected_ = false;
  std::map<int, int> pub_reasons_;            // mid -> PUBACK/PUBREC reason code
  std::vector<std::pair<int, int>> subacks_;  // mid, first granted qos
  std::deque<Received> queue_;
};

}  // namespace courier::it
