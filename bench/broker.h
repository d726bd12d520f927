// A mosquitto process the bench starts, measures and stops itself: a
// temporary directory with its config, log and data, a free loopback port,
// and a pid that is the only thing ever signalled.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "proc/process.h"

namespace courier::bench {

enum class BrokerKind {
  kPlain,        // (a) plain Mosquitto, no plugin, no persistence
  kPersist,      // (b) Mosquitto persistence, autosave on every change
  kCourierFull,  // (c) Courier, plugin_opt_sync full
  kCourierOs,    // (c) Courier, plugin_opt_sync os
  kCourierNoMeta,  // (c) Courier, plugin_opt_sync nometa
  // (c) Courier, sync full, with per_listener_settings true: Mosquitto 2.0
  // sends no tick then, so Courier commits each message on its own. Runs in
  // the saturation phase only (not in kAllKinds).
  kCourierPerListener,
};

// Every kind, in the order reports and plots list them.
inline constexpr BrokerKind kAllKinds[] = {BrokerKind::kPlain, BrokerKind::kPersist, BrokerKind::kCourierFull,
                                           BrokerKind::kCourierNoMeta, BrokerKind::kCourierOs};

const char* KindName(BrokerKind kind);             // "plain", "persist", "courier-full", "courier-os", "courier-nometa", "courier-perlistener"
bool ParseKind(const std::string& s, BrokerKind* out);
bool IsCourier(BrokerKind kind);

struct BrokerSpec {
  BrokerKind kind = BrokerKind::kPlain;
  std::string mosquitto;          // path of the mosquitto binary
  std::string plugin;             // path of mosquitto_courier.so (Courier kinds)
  std::vector<std::string> extra; // more config lines
  bool keep_dir = false;          // leave the temporary directory behind
};

class Broker {
 public:
  explicit Broker(BrokerSpec spec);
  ~Broker();  // stops the process and removes the directory
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Picks a free port, writes the config, starts mosquitto and waits until
  // the port accepts connections (at most 15 s).
  bool Start(std::string* error);
  // Stops gracefully (SIGTERM; SIGKILL after 20 s).
  void Stop();
  // Starts again on the same port with the same data. *to_port_s: seconds
  // from fork until the port accepted a connection.
  bool Restart(std::string* error, double* to_port_s, bool drop_cache);

  pid_t pid() const { return child_.pid(); }
  int port() const { return port_; }
  BrokerKind kind() const { return spec_.kind; }
  const std::string& dir() const { return dir_; }
  std::string db_path() const { return dir_ + "/db"; }
  std::string LogTail(size_t bytes = 2000) const;

 private:
  bool Launch(std::string* error, int64_t* started_ns, int64_t* accepted_ns);
  void WriteConfig() const;

  BrokerSpec spec_;
  std::string dir_;
  int port_ = 0;
  proc::Process child_;  // the broker, by pid
};

}  // namespace courier::bench
