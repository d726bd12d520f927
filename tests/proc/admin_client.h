// AdminClient: one MQTT connection that speaks Courier's admin API: JSON
// {"commands":[...]} published to $CONTROL/courier/v1, answered on
// $CONTROL/courier/v1/response to the asking client id only (the shape of
// Mosquitto's dynamic security plugin; docs/protocol.md). The one admin
// client of the tests and the bench; it knows nothing of the commands.
// The broker must list the user in plugin_opt_admin_users.
//
// Ownership: owns its `struct mosquitto*` and the network thread
// (mosquitto_loop_start); Disconnect() and the destructor end both.
// Threads: public methods from one thread; libmosquitto's callbacks run on
// the network thread and only touch the mutex-guarded state.
// Failures: nothing throws (but std::bad_alloc); Connect() and Call() return
// false / nullopt and say why in *error.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

struct mosquitto;
struct mosquitto_message;

namespace courier::proc {

inline constexpr const char* kAdminTopic = "$CONTROL/courier/v1";
inline constexpr const char* kAdminResponseTopic = "$CONTROL/courier/v1/response";

class AdminClient {
 public:
  AdminClient(std::string host, int port, std::string user, std::string client_id);
  ~AdminClient();  // Disconnect()
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;

  // Connects (MQTT 3.1.1, clean session, the user without a password),
  // subscribes to the response topic and waits for both acknowledgements.
  // A refused connection or subscription is a failure.
  bool Connect(std::chrono::milliseconds timeout, std::string* error);
  // Sends DISCONNECT, stops the network thread, frees the handle. Safe when
  // not connected or when the broker is gone.
  void Disconnect();
  // Publishes `payload` (QoS 1) to the admin topic and waits for the next
  // reply on the response topic; returns its payload. Send() and
  // WaitReply() are its two halves.
  std::optional<std::string> Call(const std::string& payload, std::chrono::milliseconds timeout, std::string* error);
  bool Send(const std::string& payload, std::string* error);
  // Removes and returns the oldest reply not taken yet, waiting for one.
  std::optional<std::string> WaitReply(std::chrono::milliseconds timeout);
  // Removes and returns the replies that arrived but no Call() took.
  std::vector<std::string> DrainReplies();

  const std::string& user() const { return user_; }
  const std::string& client_id() const { return client_id_; }

 private:
  static void OnConnect(struct mosquitto*, void* self, int rc);
  static void OnSubscribe(struct mosquitto*, void* self, int mid, int count, const int* granted);
  static void OnMessage(struct mosquitto*, void* self, const struct mosquitto_message* msg);

  std::string host_;
  int port_;
  std::string user_;
  std::string client_id_;
  struct mosquitto* mosq_ = nullptr;
  bool loop_running_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_.
  int connack_ = -1;  // -1: none yet
  int granted_ = -1;  // the response topic's SUBACK code; -1: none yet
  std::deque<std::string> replies_;
};

// One call on a connection of its own (client id `<user>-<number>`):
// connect, call, disconnect, all within `timeout`. False with *error when
// the broker refused or did not answer in time.
bool AdminCall(const std::string& host, int port, const std::string& user, const std::string& payload,
               std::chrono::milliseconds timeout, std::string* reply, std::string* error);

}  // namespace courier::proc
