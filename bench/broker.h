// A mosquitto process the bench starts, measures and stops itself: the
// broker kinds the suite compares, as configurations of proc::Mosquitto
// (tests/proc), which owns the temporary directory (config, log, data), the
// free loopback port and the pid that is the only thing ever signalled.
// One thread; nothing throws; Start()/Restart() say what failed in *error.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "proc/mosquitto.h"

namespace courier::bench {

enum class BrokerKind {
  kPlain,          // (a) plain Mosquitto, no plugin, no persistence
  kPersist,        // (b) Mosquitto persistence, autosave on every change
  kCourierFull,    // (c) Courier, plugin_opt_sync full
  kCourierOs,      // (c) Courier, plugin_opt_sync os
  kCourierNoMeta,  // (c) Courier, plugin_opt_sync nometa
  // (c) Courier, sync full, with per_listener_settings true: Mosquitto 2.0
  // sends no tick then, so Courier commits each message on its own. Runs in
  // the saturation phase only (not in kAllKinds).
  kCourierPerListener,
  // (d) Courier on PostgreSQL (plugin_opt_store postgres): an edge of a
  // database the suite starts (BrokerSpec::pg_conninfo). Runs in the
  // postgres phase only (not in kAllKinds); two brokers of this kind on one
  // database are two edges.
  kCourierPg,
};

// Every kind, in the order reports and plots list them.
inline constexpr BrokerKind kAllKinds[] = {BrokerKind::kPlain, BrokerKind::kPersist, BrokerKind::kCourierFull,
                                           BrokerKind::kCourierNoMeta, BrokerKind::kCourierOs};

// "plain", "persist", "courier-full", "courier-os", "courier-nometa", "courier-perlistener", "courier-pg"
const char* KindName(BrokerKind kind);
bool ParseKind(const std::string& s, BrokerKind* out);
bool IsCourier(BrokerKind kind);

struct BrokerSpec {
  BrokerKind kind = BrokerKind::kPlain;
  std::string mosquitto;           // path of the mosquitto binary
  std::string plugin;              // path of mosquitto_courier.so (Courier kinds)
  std::vector<std::string> extra;  // more config lines
  std::string pg_conninfo;         // kCourierPg: plugin_opt_pg_conninfo (with dbname)
  bool keep_dir = false;           // leave the temporary directory behind
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

  pid_t pid() const { return mosquitto_.pid(); }
  int port() const { return mosquitto_.port(); }
  BrokerKind kind() const { return spec_.kind; }
  const std::string& dir() const { return mosquitto_.dir(); }
  std::string db_path() const { return dir() + "/db"; }
  std::string LogTail(size_t bytes = 2000) const;

 private:
  void Configure();
  // False with *error for a launch that did not come up.
  bool Judge(const proc::Launch& launch, std::string* error);

  BrokerSpec spec_;
  proc::Mosquitto mosquitto_;
};

}  // namespace courier::bench
