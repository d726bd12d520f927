// PatroniCluster: a loopback high-availability PostgreSQL for a test: one
// etcd (proc/etcd.h) and N Patroni nodes (proc/patroni.h), each with its own
// PostgreSQL 15, in synchronous mode (one synchronous standby).
//
// Ownership: a PatroniCluster owns its Etcd and its nodes; the destructor
// kills every node (Patroni, postmaster and backends, by pid) before etcd,
// and their directories go. Threads: use it from one thread that outlives
// it. Failures: Start() and the waits return false with *error (carrying
// the nodes' log tails); nothing throws (but std::bad_alloc).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "proc/etcd.h"
#include "proc/patroni.h"

namespace courier::proc {

class PatroniCluster {
 public:
  // `node_options`: what every node gets (its name and etcd port are filled in).
  explicit PatroniCluster(int nodes = 3, PatroniOptions node_options = {});
  ~PatroniCluster();
  PatroniCluster(const PatroniCluster&) = delete;
  PatroniCluster& operator=(const PatroniCluster&) = delete;

  // Starts etcd and every node, then waits up to `timeout` for a primary and
  // for a synchronous standby (HasSyncStandby).
  bool Start(std::chrono::milliseconds timeout, std::string* error);
  // Waits up to `timeout` until one node answers GET /primary with 200;
  // that node's index, or -1 (with *error).
  int WaitForPrimary(std::chrono::milliseconds timeout, std::string* error) const;
  // True when the primary reports a standby in sync_state "sync" (or
  // "quorum") in its pg_stat_replication (GET /patroni).
  bool HasSyncStandby() const;
  // Waits up to `timeout` for HasSyncStandby().
  bool WaitForSyncStandby(std::chrono::milliseconds timeout, std::string* error) const;
  // The index of the node that answers GET /primary with 200 now; -1 if none.
  int PrimaryIndex() const;
  // Kills node i like a dying machine (PatroniNode::Kill).
  bool KillNode(size_t i, std::string* error) { return nodes_[i]->Kill(error); }

  // The libpq multi-host conninfo for clients that must reach the primary
  // wherever it is: "host=127.0.0.1,127.0.0.1,... port=p1,p2,... user=postgres
  // dbname=<dbname> target_session_attrs=read-write", plus `extra` when given.
  std::string Conninfo(const std::string& dbname = "postgres", const std::string& extra = "") const;
  // A single node's conninfo (for checks on that node).
  std::string NodeConninfo(size_t i, const std::string& dbname = "postgres") const;

  size_t size() const { return nodes_.size(); }
  PatroniNode& node(size_t i) { return *nodes_[i]; }
  Etcd& etcd() { return etcd_; }
  // Every node's log tail (`bytes` each), for a failure message.
  std::string LogTails(size_t bytes = 3000) const;

 private:
  Etcd etcd_;
  PatroniOptions node_options_;
  std::vector<std::unique_ptr<PatroniNode>> nodes_;
};

}  // namespace courier::proc
