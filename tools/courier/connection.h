// A small blocking MQTT session on top of libmosquitto, for command-line use
// by `courier admin` (the other commands use the client library).
//
// Threading: none of its own. libmosquitto runs only inside the calls below,
// on the caller's thread; a Session must be used from one thread at a time.
// Incoming messages are copied into a queue during poll() and handed out by
// take_incoming(), so no user code ever runs inside a libmosquitto callback.
//
// Errors: connect() and subscribe() throw ConnectionError when the broker is
// unreachable, refuses the client or a subscription, or does not answer
// before the deadline. publish() throws ConnectionError when the packet
// cannot be queued. poll() reports a lost connection by returning false.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "courier/client.h"

struct mosquitto;
struct mosquitto_message;
typedef struct mqtt5__property mosquitto_property;

namespace courier::cli {

using Clock = std::chrono::steady_clock;

struct ConnectionError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// mosquitto_lib_init() for the lifetime of the object. Create exactly one,
// in main(), before any Session.
class MosquittoLibrary {
 public:
  MosquittoLibrary();
  ~MosquittoLibrary();
  MosquittoLibrary(const MosquittoLibrary&) = delete;
  MosquittoLibrary& operator=(const MosquittoLibrary&) = delete;
};

struct SessionOptions {
  std::string host = "localhost";
  int port = 1883;
  std::string user;                       // MQTT username; required
  std::string password;                   // empty: none sent
  std::string client_id;                  // MQTT client id (the Courier device); required
  std::optional<client::TlsOptions> tls;  // TLS when set
  int keepalive_s = 30;
};

struct Incoming {
  std::string topic;
  std::string payload;  // raw bytes
};

// One MQTT v5 connection with a clean session. Owns its mosquitto handle.
// Not copyable or movable (libmosquitto keeps a pointer to it).
class Session {
 public:
  explicit Session(SessionOptions options);
  ~Session();  // destroys the handle; call disconnect() first for a clean goodbye
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Opens the TCP connection and waits for CONNACK.
  void connect(Clock::time_point deadline);

  // Subscribes to all `topics` with QoS 1 and waits for SUBACK; throws if any
  // is refused (e.g. by the broker's ACL).
  void subscribe(const std::vector<std::string>& topics, Clock::time_point deadline);

  // Queues a QoS 1 publish and returns its message id. Delivery is confirmed
  // by a later poll(); see refused() and flush().
  int publish(const std::string& topic, const std::string& payload);

  // Runs the network loop once, waiting at most `max_wait` for traffic.
  // Returns false once the connection is lost.
  bool poll(std::chrono::milliseconds max_wait);

  // Messages received so far, oldest first; empties the queue.
  std::vector<Incoming> take_incoming();

  // The MQTT v5 reason code (>= 0x80) with which the broker refused publish
  // `mid`, or 0 when it was accepted or is not acknowledged yet.
  int refused(int mid) const;

  // Polls until every publish is acknowledged or the deadline passes.
  // Returns true when nothing is left in flight.
  bool flush(Clock::time_point deadline);

  // Sends DISCONNECT and closes the socket. Safe to call more than once.
  void disconnect();

  // True between a successful CONNACK and the end of the connection.
  bool connected() const { return open_ && connack_ == 0; }
  const SessionOptions& options() const { return options_; }

 private:
  static void on_connect(mosquitto*, void* self, int rc, int flags, const mosquitto_property*);
  static void on_disconnect(mosquitto*, void* self, int rc, const mosquitto_property*);
  static void on_publish(mosquitto*, void* self, int mid, int reason, const mosquitto_property*);
  static void on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted, const mosquitto_property*);
  static void on_message(mosquitto*, void* self, const mosquitto_message*, const mosquitto_property*);

  SessionOptions options_;
  mosquitto* mosq_ = nullptr;
  bool open_ = false;                        // socket up: connect() called, not lost/closed
  int connack_ = -1;                         // reason code of CONNACK; -1 until it arrives
  std::set<int> in_flight_;                  // publish mids not acknowledged yet
  std::map<int, int> refused_;               // publish mid -> refusing reason code
  std::map<int, std::vector<int>> subacks_;  // subscribe mid -> granted QoS / reason codes
  std::vector<Incoming> incoming_;
};

}  // namespace courier::cli
