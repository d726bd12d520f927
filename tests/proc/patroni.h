// PatroniNode: one Patroni 3.0.2 node (Debian's patroni) managing its own
// PostgreSQL 15 on loopback ports, for the high-availability test
// (tests/integration/ha_failover_test.cc, docs/ha.md).
//
// Start() picks a free PostgreSQL port and a free REST API port, writes
// dir()/patroni.yml (PatroniConfig below) and runs `patroni` with it; its
// output goes to dir()/patroni.log. Patroni bootstraps the cluster (initdb)
// or clones the leader (pg_basebackup) into dir()/data by itself.
//
// PostgreSQL refuses to run as root: when the effective uid is 0, dir() is
// given to the `postgres` user (mode 0700) and Patroni is started as that
// user, dropped to in the forked child before exec (SpawnOptions::
// run_as_uid), so the pid held here is Patroni's own; the postmaster it
// starts inherits the user. Not root: everything runs as the current user.
//
// Ownership: a PatroniNode owns its TempDir (mkdtemp under /tmp) and the
// Patroni process. Patroni detaches its postmaster (setsid, reparented), so
// Kill() ends both trees (proc/process_tree.h): Patroni and whatever it
// started, and the postmaster (its pid from data/postmaster.pid, and any
// process whose command line names this node's data directory) with all its
// backends. The destructor does the same, then removes the directory unless
// keep_dir.
// Threads: use it from one thread that outlives it (PR_SET_PDEATHSIG).
// Failures: Start() and Kill() return false with *error; the REST queries
// treat no answer as "no"; nothing throws (but std::bad_alloc).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "proc/process.h"
#include "proc/temp_dir.h"

namespace courier::proc {

struct PatroniOptions {
  std::string binary = "patroni";
  std::string bindir = "/usr/lib/postgresql/15/bin";  // PostgreSQL's server binaries
  std::string scope = "courier";                      // the cluster's name in etcd
  std::string name;                                   // this member's name (node0, node1...)
  int etcd_port = 0;                                  // etcd's client port on 127.0.0.1
  // Leader lock lifetime, seconds between HA cycles, and how long etcd and
  // PostgreSQL operations are retried. Patroni's documented rule is
  // ttl >= loop_wait + 2 * retry_timeout; these give a failover in about ttl.
  int ttl = 10, loop_wait = 1, retry_timeout = 4;
  // The leader waits for one synchronous standby (synchronous_mode with
  // synchronous_node_count: Patroni 3.0.2 has no quorum commit).
  bool synchronous_mode = true;
  int synchronous_node_count = 1;
  // Extra postgresql.conf parameters of this node, as YAML "name: value".
  std::vector<std::string> parameters;
  bool keep_dir = false;
};

// The patroni.yml for one node (a complete file).
std::string PatroniConfig(const PatroniOptions& options, const std::string& dir, int pg_port, int rest_port);

class PatroniNode {
 public:
  explicit PatroniNode(PatroniOptions options);
  ~PatroniNode();  // Kill(), then the directory goes unless keep_dir
  PatroniNode(const PatroniNode&) = delete;
  PatroniNode& operator=(const PatroniNode&) = delete;

  // Picks the ports, writes the configuration, starts Patroni and waits (up
  // to 30 s) until its REST API accepts connections. Does not wait for
  // PostgreSQL: see the role queries.
  bool Start(std::string* error);
  // SIGKILL to Patroni, the postmaster and every process of theirs, as when
  // the machine dies; waits until all are gone. No-op when not running.
  bool Kill(std::string* error);

  // GET /primary answers 200: this node holds the leader lock and is not a
  // standby.
  bool IsPrimary() const;
  // GET /sync answers 200: a running replica that is the synchronous standby.
  bool IsSyncStandby() const;
  // GET /patroni: the node's status as JSON; empty when it does not answer.
  std::string Status() const;

  const std::string& name() const { return options_.name; }
  bool running() const { return child_.running(); }
  pid_t pid() const { return child_.pid(); }
  int pg_port() const { return pg_port_; }
  int rest_port() const { return rest_port_; }
  const std::string& dir() const { return dir_.path(); }
  std::string data_dir() const { return dir() + "/data"; }
  // The postmaster's pid (data/postmaster.pid) while it runs; -1 otherwise.
  pid_t PostmasterPid() const;
  // Patroni's log, which includes what PostgreSQL wrote to stderr.
  std::string ReadLog() const;

 private:
  bool PrepareDir(std::string* error);

  PatroniOptions options_;
  TempDir dir_;
  int uid_ = -1, gid_ = -1;  // the `postgres` user when running as root
  int pg_port_ = 0, rest_port_ = 0;
  Process child_;  // declared after dir_: ended before the directory goes
};

}  // namespace courier::proc
