// The load generator: N users with D device connections each, sending 1:1
// (or group) messages at a fixed offered rate or as fast as a window of
// unacknowledged messages allows, over libmosquitto, against one broker.
//
// Work is split over `procs` forked processes (each one epoll loop over its
// share of the connections): libmosquitto spends three descriptors per
// client, so 10,000 connections need more than one process under a 20,000
// descriptor limit. Latency timestamps are CLOCK_MONOTONIC nanoseconds
// written into the payload, comparable across the processes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "histogram.h"
#include "proc.h"
#include "stall_probe.h"

namespace courier::bench {

// Which edge each connection goes to when LoadSpec::port_b names a second
// edge (Courier on PostgreSQL, docs/scale-out.md): edge A is `port`, B `port_b`.
enum class EdgeSplit {
  kPairs,    // pair k (users 2k, 2k+1) on edge k % 2: every message stays on its edge
  kUsers,    // user u on edge u % 2: every 1:1 message crosses to the other edge
  kDevices,  // device d of every user on edge d % 2: with 2 devices and one
             // sender, each message reaches one receiving device on the
             // sender's edge and one on the other
};
const char* SplitName(EdgeSplit split);  // "pairs", "users", "devices"

enum class Mode {
  kCourier,  // Message to msg/{u}/send; ack = SENDER Signal on msg/{u}/events; deliveries on msg/{u}/inbox
  kPlain,    // QoS 1 publish to bench/{peer}/inbox; ack = PUBACK; delivery = arrival
};

struct LoadSpec {
  std::string host = "127.0.0.1";
  int port = 1883;
  Mode mode = Mode::kCourier;
  std::string prefix = "msg";  // Courier topic prefix
  int users = 64;              // even for 1:1: user 2k talks with 2k+1
  int devices = 1;             // connections per user
  int senders_per_user = 1;    // how many of a user's devices send
  double rate = 0;             // offered msg/s over all senders; 0 = closed loop
  int window = 16;             // most unacknowledged messages per sending device
  int payload = 100;           // application payload bytes (Message.payload / MQTT payload)
  int group_size = 0;          // 0 = 1:1; >= 2: groups of this many users (Courier)
  bool pull = false;           // receivers PULL instead of taking pushes (Courier)
  int pull_limit = 100;        // entries per PULL
  int pull_idle_ms = 5;        // wait before pulling again when caught up
  int send_qos = 1;            // MQTT QoS of the senders' publishes (Courier: the SENDER Signal is the ack)
  bool receipts = false;       // receivers send a `received` receipt per delivery (Courier)
  bool clean_session = true;   // false: persistent sessions (baseline b)
  int keepalive_s = 60;
  double warmup_s = 2;                     // sending, not measured
  double duration_s = 8;                   // the measured window
  double drain_s = 5;                      // most time to wait for in-flight messages after sending stops
  int64_t max_messages = 0;                // fill mode: send exactly this many (all senders), then stop
  int procs = 1;                           // generator processes
  double setup_timeout_s = 120;            // connect + subscribe, all connections
  std::string run_tag;                     // makes ids unique per run against the same store
  std::string user_prefix = "u";           // user names: <prefix><index>
  std::string admin_user = "bench-admin";  // creates the groups (must be in plugin_opt_admin_users)
  pid_t broker_pid = -1;                   // sampled from /proc when > 0
  int port_b = 0;                          // > 0: a second edge; connections split by `split`
  EdgeSplit split = EdgeSplit::kPairs;
  pid_t broker_pid_b = -1;  // the second edge's broker, sampled from /proc when > 0
  pid_t tree_pid = -1;      // a server's root process (the postmaster): CPU of it and all its descendants
};

// The edge (0 = A, 1 = B) of user u's device d.
int EdgeOf(const LoadSpec& s, int user, int device);

struct LoadResult {
  std::string error;               // empty when the run completed
  int connections = 0;             // connections the generator opened
  int connected_at_end = 0;        // still connected when the window closed
  double setup_s = 0;              // connect + subscribe time of all connections
  double window_s = 0;             // measured window (fill mode: first send to last ack)
  double offered_rate = 0;         // msg/s asked for (0 = closed loop)
  uint64_t sent = 0;               // messages sent (all phases)
  uint64_t sent_window = 0;        // sent with a timestamp inside the window
  uint64_t acked_window = 0;       // acks for those
  uint64_t expected_window = 0;    // deliveries expected for those (receiving devices)
  uint64_t delivered_window = 0;   // deliveries of those, however late (until the drain ended)
  uint64_t arrived_in_window = 0;  // deliveries that arrived inside the window (throughput)
  uint64_t device_copies = 0;      // Courier DEVICE copies seen by senders' devices
  uint64_t errors = 0;             // error Signals (Courier) or failed publishes
  uint64_t disconnects = 0;
  std::string first_error;  // text of the first error Signal or failure
  Histogram deliver;        // send -> deliver, ns, messages sent inside the window
  Histogram ack;            // send -> ack, ns
  // With two edges: deliver split by whether the receiving connection is on
  // the sending connection's edge.
  Histogram deliver_same, deliver_cross;
  // Broker, from /proc, over the window.
  double broker_cpu_pct = 0;  // of one core
  int64_t broker_rss_kb = 0;  // at the end of the window
  int64_t broker_rss_max_kb = 0;
  int64_t broker_rss_anon_kb = 0;
  int64_t broker_fds = 0;
  double broker_b_cpu_pct = 0;  // the second edge's broker, % of one core
  double tree_cpu_pct = 0;      // spec.tree_pid and its descendants, % of one core
  // How late a sleeping thread of the generator woke over the window: the
  // machine's stalls, which every broker's latencies include.
  Stalls stalls;
  bool disturbed() const { return stalls.Disturbed(window_s); }
  // The generator's own processes, over the whole run (setup to drain).
  double generator_cpu_s = 0;
  double generator_wall_s = 0;
  double generator_cpu_pct() const { return generator_wall_s > 0 ? 100 * generator_cpu_s / generator_wall_s : 0; }

  double delivered_per_s() const { return window_s > 0 ? double(arrived_in_window) / window_s : 0; }
  double sent_per_s() const { return window_s > 0 ? double(sent_window) / window_s : 0; }
  // CPU µs per delivered message of `cpu_pct` (% of one core over the window).
  double us_per_delivered(double cpu_pct) const {
    return delivered_per_s() > 0 ? cpu_pct * 1e4 / delivered_per_s() : 0;
  }
  uint64_t lost() const { return expected_window > delivered_window ? expected_window - delivered_window : 0; }
};

// Runs one load against spec.host:spec.port. Blocks until it is over.
LoadResult RunLoad(const LoadSpec& spec);

// Restart probe (Courier): connects as user `user`, device `device`, sends
// a PULL for the entries after 0 and waits for its RESPONSE. Returns the
// seconds until the response, or a negative value on failure/timeout.
double PullProbe(const std::string& host, int port, const std::string& user, const std::string& device, int limit,
                 double timeout_s, int* entries, int32_t* head, std::string* error);

}  // namespace courier::bench
