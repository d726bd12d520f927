// results.md: Courier on PostgreSQL (the postgres phase): saturation with
// one and two edges, CPU per message of the edges and of PostgreSQL, the
// capacity per primary projected from it, cross-edge latency, and their
// targets.
#include <vector>

#include "report_text.h"
#include "suite_impl.h"

namespace courier::bench {
namespace {

const char* Verdict(bool ok) { return ok ? "met" : "**missed**"; }

// CPU of every edge of a run, % of one core.
double EdgesCpuPct(const Row& r) { return r.r.broker_cpu_pct + r.r.broker_b_cpu_pct; }

// Messages sent and acknowledged per second in the window.
double AckedPerS(const Row& r) { return r.r.window_s > 0 ? double(r.r.acked_window) / r.r.window_s : 0; }

// µs of CPU per message at `cpu_pct` % of one core and `per_s` messages/s.
std::string UsPer(double cpu_pct, double per_s) { return per_s > 0 ? Fmt("%.0f", cpu_pct * 1e4 / per_s) : "-"; }

// Messages/s one core sustains at `cpu_pct` and `per_s`: 1e6 / µs per message.
std::string PerCore(double cpu_pct, double per_s) {
  return cpu_pct > 0 && per_s > 0 ? Rate(per_s * 100.0 / cpu_pct) : "-";
}

std::string EdgesText(const Row& r) {
  return r.spec.port_b > 0 ? Fmt("2 (%s)", SplitName(r.spec.split)) : std::string("1");
}

}  // namespace

void Suite::ReportPostgres(std::ostream& o) {
  if (FindAll(BrokerKind::kCourierPg, "pg-saturation").empty() &&
      FindAll(BrokerKind::kCourierPg, "pg-2edges").empty() && FindAll(BrokerKind::kCourierPg, "pg-cross").empty()) {
    return;
  }
  o << "## Courier on PostgreSQL (scale-out)\n\n";
  o << "Courier edges with `plugin_opt_store postgres` on one PostgreSQL " << (pg_version_.empty() ? "" : pg_version_)
    << " server started by the bench on a loopback port (docs/scale-out.md), with durable settings: `fsync = on`, "
       "`synchronous_commit = on`, `full_page_writes = on`, so every acknowledged message is a commit flushed to "
       "this machine's disk. One server, **no standby**: the production topology's synchronous standby (`ANY 1`) "
       "adds a network round trip per commit (shared by the batch), which these figures do not include. The "
       "edges, PostgreSQL and the load generator share the same cores. Each configuration has a fresh database. "
       "*PG CPU* is the postmaster and all its child processes (backends, WAL writer, checkpointer, autovacuum), "
       "summed from /proc over the same window as the broker's; *µs/msg* divides by delivered messages/s.\n\n";
  ReportPostgresSaturation(o);
  ReportPostgresCross(o);
}

void Suite::ReportPostgresSaturation(std::ostream& o) {
  const Row* plain = Find(BrokerKind::kPlain, "pg-saturation");
  const double p = plain && plain->r.error.empty() ? plain->r.delivered_per_s() : 0;
  const double lmdb = Saturated(BrokerKind::kCourierFull);
  o << "Saturation, the load of the saturation table (64 users in 32 pairs, window 16). The plain relay and one "
       "edge ran alternately with both up, "
    << sat_reps_ << (sat_reps_ == 1 ? " run" : " runs") << " each (median rows); two edges: pairs on one edge "
    << "each (a message stays on its edge; the edges share the database), and every user on the other edge from "
       "its peer (every message crosses, by a hint through LISTEN/NOTIFY). *msgs per commit* and *commit ms* are "
       "edge A's counters (`getStats`) over the run.\n\n";
  o << "| configuration | edges | delivered msg/s | vs plain | vs LMDB sync full | deliver p50 | p99 | edges CPU | "
       "edges CPU µs/msg | PG CPU | PG CPU µs/msg | msg/s per PG core (projected) | msgs per commit | commit ms | "
       "lost | errors |\n";
  o << "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  std::vector<const Row*> rows;
  if (plain) rows.push_back(plain);
  if (const Row* r = Find(BrokerKind::kCourierPg, "pg-saturation")) rows.push_back(r);
  for (const Row* r : FindAll(BrokerKind::kCourierPg, "pg-2edges")) rows.push_back(r);
  for (const Row* r : rows) {
    const double d = r->r.delivered_per_s();
    const bool pg = r->kind == BrokerKind::kCourierPg;
    o << "| " << Label(r->kind) << " | " << (pg ? EdgesText(*r) : "-") << " | " << Rate(d) << " | "
      << (p > 0 ? Fmt("%.2f×", d / p) : "-") << " | " << (lmdb > 0 && pg ? Fmt("%.2f×", d / lmdb) : "-") << " | "
      << Ms(r->r.deliver.Percentile(0.5)) << " | " << Ms(r->r.deliver.Percentile(0.99)) << " | "
      << Fmt("%.0f%%", EdgesCpuPct(*r)) << " | " << UsPer(EdgesCpuPct(*r), d) << " | "
      << (pg ? Fmt("%.0f%%", r->r.tree_cpu_pct) : "-") << " | " << (pg ? UsPer(r->r.tree_cpu_pct, d) : "-") << " | "
      << (pg ? PerCore(r->r.tree_cpu_pct, d) : "-") << " | "
      << (r->commits() > 0 ? Fmt("%.1f | %.2f", r->per_commit(), r->commit_ms()) : std::string("- | -")) << " | "
      << r->r.lost() << " | " << r->r.errors << (r->r.error.empty() ? "" : " (FAILED: " + r->r.error + ")") << " |\n";
  }
  const auto runs = FindAll(BrokerKind::kCourierPg, "pg-saturation");
  if (runs.size() > 1) {
    o << "\nOne-edge runs in order: "
      << ListRuns(
             runs, [](const Row& r) { return Rate(r.r.delivered_per_s()); }, ", ")
      << " msg/s; plain: "
      << ListRuns(
             FindAll(BrokerKind::kPlain, "pg-saturation"), [](const Row& r) { return Rate(r.r.delivered_per_s()); },
             ", ")
      << " msg/s.\n";
  }
  o << "\n**This machine has 2 cores**, shared by the generator, the edges and PostgreSQL: a second edge cannot add "
       "capacity here, and the two-edge rows show that one database takes both edges' load, not how it scales. "
       "The capacity of one primary is projected from CPU per message instead: one PostgreSQL core sustains about "
       "1,000,000 / (PG CPU µs/msg) messages/s (the *projected* column), and one edge core 1,000,000 / (edges CPU "
       "µs/msg). The projection assumes PostgreSQL's CPU, not its disk, is what runs out, and leaves out the "
       "standby's round trip (latency per batch, not CPU). It holds for commits as full as at saturation: at "
       "light load a commit carries a few messages and each edge's catch-up pulls (one per followed user per "
       "`edge_catchup_ms`) cost the same whatever the traffic, so CPU per message is higher there (the "
       "cross-edge table below).\n\n";
}

void Suite::ReportPostgresCross(std::ostream& o) {
  const auto runs = FindAll(BrokerKind::kCourierPg, "pg-cross");
  if (runs.empty()) return;
  o << "Cross-edge delivery at light load: two edges on one database; each of the 64 users has device 0 on edge A "
       "(it sends) and device 1 on edge B, so every message reaches one receiving device on the sender's edge "
       "(*same edge*: published by the edge that committed it) and one on the other (*cross edge*: a hint after "
       "the commit, LISTEN/NOTIFY, published by edge B). Open loop, latency from the scheduled send time; *PG CPU "
       "µs/msg* divides by messages sent and acknowledged (two deliveries each).\n\n";
  o << "| offered msg/s | deliveries/s | same edge p50 | p99 | cross edge p50 | p99 | cross/same p99 | edges CPU | "
       "PG CPU | PG CPU µs/msg | lost | machine stalls ms (worst) |\n";
  o << "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const Row* r : runs) {
    const auto &same = r->r.deliver_same, &cross = r->r.deliver_cross;
    const double sp = double(same.Percentile(0.99)), cp = double(cross.Percentile(0.99));
    o << "| " << Rate(r->spec.rate) << " | " << Rate(r->r.delivered_per_s()) << " | " << Ms(same.Percentile(0.5))
      << " | " << Ms(same.Percentile(0.99)) << " | " << Ms(cross.Percentile(0.5)) << " | " << Ms(cross.Percentile(0.99))
      << " | " << (sp > 0 ? Fmt("%.2f×", cp / sp) : "-") << " | " << Fmt("%.0f%%", EdgesCpuPct(*r)) << " | "
      << Fmt("%.0f%%", r->r.tree_cpu_pct) << " | " << UsPer(r->r.tree_cpu_pct, AckedPerS(*r)) << " | " << r->r.lost()
      << (r->r.error.empty() ? "" : " FAILED: " + r->r.error) << " | " << StallText(r->r) << " |\n";
  }
  o << "\n";
}

void Suite::ReportPostgresTargets(std::ostream& o) {
  const Row* plain = Find(BrokerKind::kPlain, "pg-saturation");
  const Row* one = Find(BrokerKind::kCourierPg, "pg-saturation");
  if (plain && one && plain->r.delivered_per_s() > 0) {
    const double p = plain->r.delivered_per_s(), e = one->r.delivered_per_s();
    o << "| Courier on PostgreSQL, one edge ≥ 0.3× plain relay at saturation (durable commits, no standby) | "
      << Rate(e) << " vs " << Rate(p) << " msg/s | " << Fmt("%.2f×", e / p) << " | " << Verdict(e >= 0.3 * p) << " |\n";
    const double us = one->r.us_per_delivered(one->r.tree_cpu_pct);
    if (us > 0) {
      o << "| capacity of one PostgreSQL primary core, projected (1,000,000 / PG CPU µs/msg; 2-core machine, no "
           "scaling measured) | "
        << Fmt("%.0f µs/msg", us) << " | " << Rate(1e6 / us) << " msg/s | projection |\n";
    }
  }
  const Row* x = FindByP99(BrokerKind::kCourierPg, "pg-cross");
  if (x && x->r.deliver_same.count() && x->r.deliver_cross.count()) {
    const double sp = double(x->r.deliver_same.Percentile(0.99)), cp = double(x->r.deliver_cross.Percentile(0.99));
    o << "| at " << Rate(x->spec.rate) << " msg/s, cross-edge p99 send→deliver ≤ 3× same-edge p99 | " << Ms(int64_t(cp))
      << " vs " << Ms(int64_t(sp)) << " ms | " << Fmt("%.2f×", cp / sp) << " | "
      << (x->r.disturbed() ? "**not judged**: machine stalls disturbed the run" : Verdict(cp <= 3 * sp)) << " |\n";
  }
}

}  // namespace courier::bench
