// The postgres phase: Courier edges (plugin_opt_store postgres) on one
// PostgreSQL 15 server that the suite starts with durable settings. One
// edge at saturation alternating with the plain relay; two edges at
// saturation with the generator split over both ports; and send→deliver on
// the sender's edge against the other edge at light load.
#include <chrono>

#include "proc/postgres.h"
#include "report_text.h"
#include "suite_impl.h"

namespace courier::bench {
namespace {

// Durable commits, unlike the tests' defaults (fsync off, full_page_writes
// off): every figure is a commit flushed to this machine's disk. One server,
// no standby.
proc::PostgresOptions BenchPostgresOptions() {
  proc::PostgresOptions o;
  o.dir_prefix = "courier-bench-pg-";
  o.settings = {"fsync = on", "synchronous_commit = on", "full_page_writes = on"};
  return o;
}

}  // namespace

void Suite::PostgresPhase() {
  proc::Postgres pg(BenchPostgresOptions());
  const proc::Launch launch = pg.Start();
  if (!launch.accepting()) {
    const std::string log = pg.ReadLog();
    failures_.push_back("postgres: PostgreSQL did not start: " + launch.error + " " +
                        (log.size() > 1500 ? log.substr(log.size() - 1500) : log));
    Log("FAILED to start PostgreSQL: " + launch.error);
    return;
  }
  std::string err;
  if (!pg.Exec("SHOW server_version", &err, "postgres", &pg_version_)) pg_version_.clear();
  Log(Fmt("-- PostgreSQL %s pid %d on 127.0.0.1:%d (%s; fsync on, synchronous_commit on, full_page_writes on)",
          pg_version_.c_str(), pg.pid(), pg.port(), pg.dir().c_str()));
  PgSaturation(pg);
  PgTwoEdges(pg);
  PgCrossEdge(pg);
  // The edges are gone (each configuration's brokers end in its scope);
  // the server ends with `pg`, by its pid.
}

std::string Suite::PgDatabase(proc::Postgres& pg, const std::string& name) {
  std::string err;
  if (!pg.CreateDatabase(name, &err)) {
    failures_.push_back("postgres: cannot create database " + name + ": " + err);
    Log("FAILED to create database " + name + ": " + err);
    return "";
  }
  return pg.Conninfo(name);
}

Row* Suite::RunEdges(Broker& a, Broker* b, pid_t server, const std::string& phase, LoadSpec spec) {
  if (b) {
    spec.port_b = b->port();
    spec.broker_pid_b = b->pid();
  }
  spec.tree_pid = server;
  return Run(a, phase, spec);
}

// One edge against the plain relay, alternately with both up, like the
// saturation pairs: the target is the ratio of their medians.
void Suite::PgSaturation(proc::Postgres& pg) {
  const std::string db = PgDatabase(pg, "bench_one_edge");
  if (db.empty()) return;
  auto plain = Start(BrokerKind::kPlain);
  auto edge = Start(BrokerKind::kCourierPg, {}, db);
  for (int i = 0; i < sat_reps_; ++i) {
    if (plain) RunEdges(*plain, nullptr, pg.pid(), "pg-saturation", Standard(BrokerKind::kPlain));
    if (edge) RunEdges(*edge, nullptr, pg.pid(), "pg-saturation", Standard(BrokerKind::kCourierPg));
  }
}

// Two edges on one database, the 64 users split over both ports: pairs kept
// on one edge (the edges share only the database), then every message
// crossing to the other edge (hints through LISTEN/NOTIFY).
void Suite::PgTwoEdges(proc::Postgres& pg) {
  for (EdgeSplit split : {EdgeSplit::kPairs, EdgeSplit::kUsers}) {
    const std::string db = PgDatabase(pg, std::string("bench_two_edges_") + SplitName(split));
    if (db.empty()) continue;
    auto a = Start(BrokerKind::kCourierPg, {}, db);
    auto b = Start(BrokerKind::kCourierPg, {}, db);
    if (!a || !b) continue;
    LoadSpec s = Standard(BrokerKind::kCourierPg);
    s.split = split;
    RunEdges(*a, b.get(), pg.pid(), "pg-2edges", s);
  }
}

// Light load, open loop: every user has device 0 on edge A (it sends) and
// device 1 on edge B, so each message reaches one receiving device on the
// sender's edge and one on the other, in the same run.
void Suite::PgCrossEdge(proc::Postgres& pg) {
  const std::string db = PgDatabase(pg, "bench_cross_edge");
  if (db.empty()) return;
  auto a = Start(BrokerKind::kCourierPg, {}, db);
  auto b = Start(BrokerKind::kCourierPg, {}, db);
  if (!a || !b) return;
  LoadSpec s = Standard(BrokerKind::kCourierPg);
  s.devices = 2;
  s.senders_per_user = 1;
  s.split = EdgeSplit::kDevices;
  s.rate = pg_light_rate_;
  s.window = 1000;  // open loop: the schedule decides
  RunEdges(*a, b.get(), pg.pid(), "pg-cross", s);
}

}  // namespace courier::bench
