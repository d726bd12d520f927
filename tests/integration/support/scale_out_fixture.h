// ScaleOutTest: the gtest fixture of the scale-out failure tests: two (or
// more) Courier edges (mosquitto + plugin, `plugin_opt_store postgres`) on
// one PostgreSQL database (PgCluster: a primary, optionally with streaming
// standbys), clients that fail over between the edges (EdgeTraffic), and
// the end of every test: drain what is unacknowledged, let every receiver
// catch up, pull each receiver's whole log through an edge, read the
// database with SQL and check every promise (DeliveryAudit).
//
// Ownership: owns the cluster, the edges and the traffic. Threads: the
// test's main thread. Failures: gtest assertions; on failure TearDown
// prints the tail of each edge's log.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/broker.h"
#include "support/delivery_audit.h"
#include "support/edge_traffic.h"
#include "support/pg_cluster.h"

namespace courier::it {

class ScaleOutTest : public ::testing::Test {
 protected:
  using Clock = std::chrono::steady_clock;

  void TearDown() override;

  // The database (standbys: 0 for one server) and `edges` edges on it.
  void StartCluster(int standbys, const std::string& sync);
  void StartEdges(int edges);
  void StartTraffic(const EdgeTrafficOptions& options);
  // The edges' ports by index, 0 for an edge that is down.
  std::vector<int> Ports() const;
  // Runs the traffic for `d` (every client's work, the network).
  void RunFor(std::chrono::milliseconds d);
  // Drains, catches up, pulls each receiver's log from offset 0 through
  // edge (receiver index % edges), stops the edges, reads the database and
  // checks everything. The counts are in audit().
  void FinishAndAudit();
  // One line of figures for the test's output, prefixed "[scale-out] name".
  void Report(const std::string& name, const std::string& extra);

  // Error answers the clients got: transient send errors, errors on pulls,
  // and the problems the clients recorded (permanent errors, bad acks).
  uint64_t ErrorAnswers() const;
  void ExpectNoClientProblems() const;

  PgCluster cluster_;
  std::vector<std::unique_ptr<Broker>> edges_;
  std::unique_ptr<EdgeTraffic> traffic_;
  std::unique_ptr<DeliveryAudit> audit_;
  Clock::time_point started_;
  int64_t audit_ms_ = 0;
};

}  // namespace courier::it
