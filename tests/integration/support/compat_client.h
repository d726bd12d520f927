// CompatClient: one libmosquitto MQTT 5 connection for the compatibility
// suite, recording what plain MQTT features need (TestClient does not):
// wills, session expiry and the session-present flag, MQTT 5 properties on
// publish and on receipt, topic aliases, every SUBACK and PUBACK/PUBREC
// reason code.
//
// Ownership: owns its `struct mosquitto*` and its network thread
// (mosquitto_loop_start); the destructor stops both. Threads: public methods
// on the test's main thread; callbacks on the network thread only push into
// mutex-guarded state. Nothing throws; failures are AssertionResults.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

struct mosquitto;
struct mosquitto_message;
typedef struct mqtt5__property mosquitto_property;

namespace courier::it {

// MQTT 5 publish properties a scenario may set, and that are recorded on
// receipt. Empty / zero means absent.
struct Props {
  std::vector<std::pair<std::string, std::string>> user;
  std::string content_type;
  std::string response_topic;
  std::string correlation;
  uint32_t message_expiry = 0;  // on receipt: the remaining seconds
  int payload_format = -1;      // -1 absent
  uint16_t topic_alias = 0;     // publish only (the broker never forwards ours)
};

struct Delivery {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retain = false;
  Props props;
};

struct ConnectSpec {
  std::string client_id;
  std::string username;  // empty: none
  std::string password;  // empty: none
  bool clean_start = true;
  uint32_t session_expiry = 0;
  // A will, when will_topic is set.
  std::string will_topic;
  std::string will_payload;
  int will_qos = 0;
  bool will_retain = false;
};

class CompatClient {
 public:
  CompatClient();
  ~CompatClient();
  CompatClient(const CompatClient&) = delete;
  CompatClient& operator=(const CompatClient&) = delete;

  // Connects over MQTT 5 and waits for the CONNACK; fails unless accepted.
  ::testing::AssertionResult Connect(int port, const ConnectSpec& spec);
  // A normal DISCONNECT (reason 0: no will), then stops the thread.
  void Disconnect();
  // DISCONNECT with reason 0x04 "with will message": the broker publishes
  // the will as if the connection had been lost.
  void DisconnectWithWill();

  // Subscribes and returns the SUBACK's reason code (granted QoS, or >= 0x80).
  std::optional<int> Subscribe(const std::string& filter, int qos);
  // Publishes; for QoS > 0 waits for the PUBACK / PUBREC and returns its
  // reason code, for QoS 0 returns 0 once handed to the network thread.
  std::optional<int> Publish(const std::string& topic, const std::string& payload, int qos, bool retain = false,
                             const Props& props = {});

  // Waits until at least `n` deliveries are queued (or `timeout`), then
  // returns all queued deliveries and clears the queue.
  std::vector<Delivery> Take(size_t n, std::chrono::milliseconds timeout);
  bool session_present() const;

 private:
  static void OnConnect(struct mosquitto*, void* self, int rc, int flags, const mosquitto_property*);
  static void OnPublish(struct mosquitto*, void* self, int mid, int reason, const mosquitto_property*);
  static void OnSubscribe(struct mosquitto*, void* self, int mid, int count, const int* granted,
                          const mosquitto_property*);
  static void OnMessage(struct mosquitto*, void* self, const struct mosquitto_message* msg,
                        const mosquitto_property* props);
  void Stop();

  struct mosquitto* mosq_ = nullptr;
  bool loop_running_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  int connack_ = -1;
  bool session_present_ = false;
  std::vector<std::pair<int, int>> acks_;  // mid, reason
  std::vector<Delivery> queue_;
};

}  // namespace courier::it
