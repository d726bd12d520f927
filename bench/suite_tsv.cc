// runs.tsv: one line per run. The columns are one table, so the header and
// the rows cannot get out of step: each column names itself and writes its
// value.
#include <fstream>
#include <ostream>

#include "report_text.h"
#include "suite_impl.h"

namespace courier::bench {
namespace {

struct Column {
  const char* name;
  void (*write)(std::ostream& t, const Row& r);
};

// In the order of the file. Numbers go through the stream's defaults, times
// through Ms (milliseconds, two decimals).
constexpr Column kColumns[] = {
    {"config", [](std::ostream& t, const Row& r) { t << KindName(r.kind); }},
    {"phase", [](std::ostream& t, const Row& r) { t << r.phase; }},
    {"mode", [](std::ostream& t, const Row& r) { t << (r.spec.mode == Mode::kCourier ? "courier" : "plain"); }},
    {"users", [](std::ostream& t, const Row& r) { t << r.spec.users; }},
    {"devices", [](std::ostream& t, const Row& r) { t << r.spec.devices; }},
    {"rate", [](std::ostream& t, const Row& r) { t << r.spec.rate; }},
    {"window", [](std::ostream& t, const Row& r) { t << r.spec.window; }},
    {"payload", [](std::ostream& t, const Row& r) { t << r.spec.payload; }},
    {"procs", [](std::ostream& t, const Row& r) { t << r.spec.procs; }},
    {"connections", [](std::ostream& t, const Row& r) { t << r.r.connections; }},
    {"held", [](std::ostream& t, const Row& r) { t << r.r.connected_at_end; }},
    {"setup_s", [](std::ostream& t, const Row& r) { t << r.r.setup_s; }},
    {"window_s", [](std::ostream& t, const Row& r) { t << r.r.window_s; }},
    {"sent", [](std::ostream& t, const Row& r) { t << r.r.sent; }},
    {"sent_window", [](std::ostream& t, const Row& r) { t << r.r.sent_window; }},
    {"acked_window", [](std::ostream& t, const Row& r) { t << r.r.acked_window; }},
    {"delivered_window", [](std::ostream& t, const Row& r) { t << r.r.delivered_window; }},
    {"expected_window", [](std::ostream& t, const Row& r) { t << r.r.expected_window; }},
    {"lost", [](std::ostream& t, const Row& r) { t << r.r.lost(); }},
    {"delivered_per_s", [](std::ostream& t, const Row& r) { t << r.r.delivered_per_s(); }},
    {"p50_ms", [](std::ostream& t, const Row& r) { t << Ms(r.r.deliver.Percentile(0.5)); }},
    {"p90_ms", [](std::ostream& t, const Row& r) { t << Ms(r.r.deliver.Percentile(0.9)); }},
    {"p99_ms", [](std::ostream& t, const Row& r) { t << Ms(r.r.deliver.Percentile(0.99)); }},
    {"p999_ms", [](std::ostream& t, const Row& r) { t << Ms(r.r.deliver.Percentile(0.999)); }},
    {"max_ms", [](std::ostream& t, const Row& r) { t << Ms(r.r.deliver.max()); }},
    {"ack_p50_ms", [](std::ostream& t, const Row& r) { t << Ms(r.r.ack.Percentile(0.5)); }},
    {"ack_p90_ms", [](std::ostream& t, const Row& r) { t << Ms(r.r.ack.Percentile(0.9)); }},
    {"ack_p99_ms", [](std::ostream& t, const Row& r) { t << Ms(r.r.ack.Percentile(0.99)); }},
    {"ack_p999_ms", [](std::ostream& t, const Row& r) { t << Ms(r.r.ack.Percentile(0.999)); }},
    {"ack_max_ms", [](std::ostream& t, const Row& r) { t << Ms(r.r.ack.max()); }},
    {"broker_cpu_pct", [](std::ostream& t, const Row& r) { t << r.r.broker_cpu_pct; }},
    {"broker_rss_kb", [](std::ostream& t, const Row& r) { t << r.r.broker_rss_kb; }},
    {"broker_rss_max_kb", [](std::ostream& t, const Row& r) { t << r.r.broker_rss_max_kb; }},
    {"broker_rss_anon_kb", [](std::ostream& t, const Row& r) { t << r.r.broker_rss_anon_kb; }},
    {"broker_fds", [](std::ostream& t, const Row& r) { t << r.r.broker_fds; }},
    // Two edges (the postgres phase): where the connections went, the second
    // edge's CPU, the server tree's (PostgreSQL: the postmaster and its
    // children), and send→deliver on the sender's edge against the other.
    {"edges", [](std::ostream& t, const Row& r) { t << (r.spec.port_b > 0 ? 2 : 1); }},
    {"split", [](std::ostream& t, const Row& r) { t << (r.spec.port_b > 0 ? SplitName(r.spec.split) : "-"); }},
    {"broker_b_cpu_pct", [](std::ostream& t, const Row& r) { t << r.r.broker_b_cpu_pct; }},
    {"broker_us_per_msg",
     [](std::ostream& t, const Row& r) { t << r.r.us_per_delivered(r.r.broker_cpu_pct + r.r.broker_b_cpu_pct); }},
    {"pg_cpu_pct", [](std::ostream& t, const Row& r) { t << r.r.tree_cpu_pct; }},
    {"pg_us_per_msg", [](std::ostream& t, const Row& r) { t << r.r.us_per_delivered(r.r.tree_cpu_pct); }},
    {"same_p50_ms", [](std::ostream& t, const Row& r) { t << Ms(r.r.deliver_same.Percentile(0.5)); }},
    {"same_p99_ms", [](std::ostream& t, const Row& r) { t << Ms(r.r.deliver_same.Percentile(0.99)); }},
    {"cross_p50_ms", [](std::ostream& t, const Row& r) { t << Ms(r.r.deliver_cross.Percentile(0.5)); }},
    {"cross_p99_ms", [](std::ostream& t, const Row& r) { t << Ms(r.r.deliver_cross.Percentile(0.99)); }},
    {"stalls", [](std::ostream& t, const Row& r) { t << r.r.stalls.stalls; }},
    {"stalled_ms", [](std::ostream& t, const Row& r) { t << Ms(r.r.stalls.stalled_ns); }},
    {"stall_worst_ms", [](std::ostream& t, const Row& r) { t << Ms(r.r.stalls.worst_ns); }},
    {"disturbed", [](std::ostream& t, const Row& r) { t << (r.r.disturbed() ? 1 : 0); }},
    {"errors", [](std::ostream& t, const Row& r) { t << r.r.errors; }},
    {"error", [](std::ostream& t, const Row& r) { t << r.r.error; }},
};

}  // namespace

void WriteRunsTsv(const std::string& path, const std::vector<Row>& rows) {
  std::ofstream t(path);
  for (const Column& c : kColumns) t << (&c == kColumns ? "" : "\t") << c.name;
  t << "\n";
  for (const auto& r : rows) {
    for (const Column& c : kColumns) {
      if (&c != kColumns) t << "\t";
      c.write(t, r);
    }
    t << "\n";
  }
}

}  // namespace courier::bench
