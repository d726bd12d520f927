// results.md: the report of one suite run, one function per section; and
// the call that writes runs.tsv (suite_tsv.cc) beside it.
#include <algorithm>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>

#include "report_text.h"
#include "suite_impl.h"

namespace courier::bench {

std::string ListRuns(const std::vector<const Row*>& rows, const std::function<std::string(const Row&)>& figure,
                     const char* sep) {
  std::string v;
  for (const Row* r : rows) v += (v.empty() ? "" : sep) + figure(*r);
  return v;
}

void Suite::Report() {
  std::ostringstream o;
  ReportIntro(o);
  ReportSaturation(o);
  ReportSaturationRuns(o);
  ReportCommits(o);
  ReportLatency(o);
  ReportHold(o);
  ReportStore(o);
  ReportPostgres(o);
  ReportTargets(o);
  ReportFailures(o);
  o << "\nRaw rows: `runs.tsv`; plot data: `saturation.dat`, `latency.dat`, `heap.dat`; progress: `progress.log`.\n";
  std::ofstream(out + "/results.md") << o.str();
  WriteRunsTsv(out + "/runs.tsv", rows_);
}

void Suite::ReportIntro(std::ostream& o) {
  char when[64];
  std::time_t now = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", std::localtime(&now));
  o << "# Courier benchmark results\n\n";
  o << "Run " << when << (quick ? " with `--quick` (short windows, smaller scale points)" : " (standard suite)") << ", "
    << Fmt("%.0f s", double(NowNs() - started_ns_) / 1e9) << ". Every figure below comes from this one run: "
    << "each configuration's broker was started by the bench on a free loopback port with a fresh temporary "
       "directory, loaded by the same generator, and stopped by its pid.\n\n";
  o << "## Machine\n\n" << Machine() << "\n";
  o << "The load generator runs on the same cores as the broker (all traffic on 127.0.0.1), so every figure "
       "includes the generator's own CPU use; the machine was shared with other work (see load average).\n\n";
}

// The saturation table: every configuration's median run, and the variants
// of (c) sync full.
void Suite::ReportSaturation(std::ostream& o) {
  const double plain = Saturated(BrokerKind::kPlain);
  o << "## Saturation\n\n";
  o << "64 users in 32 pairs, one connection each; every user sends to its peer as fast as a window of 16 "
       "unacknowledged messages allows; "
    << payload_
    << " B payload; senders publish at QoS 1 (one row at QoS 0); the plain relay delivers at QoS 1, Courier its "
       "stored copies at QoS 0 (`plugin_opt_delivery_qos` default). Measured over "
    << duration_ << " s after " << warmup_
    << " s of warm-up. *delivered* counts messages arriving at the "
       "receiver inside the window. Latencies in ms; CPU is the broker's, % of one core; *CPU µs/msg* is broker CPU "
       "time "
       "per delivered message, the figure least disturbed by other load on the machine; *generator CPU* is the load "
       "generator's processes over the whole run (setup to drain), % of one core.\n\n";
  o << "| configuration | delivered msg/s | vs plain | deliver p50 | p90 | p99 | p99.9 | max | ack p50 | ack p99 | "
       "broker CPU | broker CPU µs/msg | generator CPU | broker RSS MiB | lost | errors |\n";
  o << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  auto line = [&](const std::string& label, const Row& r) {
    const auto& d = r.r.deliver;
    o << "| " << label << " | " << Rate(r.r.delivered_per_s()) << " | "
      << (plain > 0 ? Fmt("%.2f×", r.r.delivered_per_s() / plain) : "-") << " | " << Ms(d.Percentile(0.5)) << " | "
      << Ms(d.Percentile(0.9)) << " | " << Ms(d.Percentile(0.99)) << " | " << Ms(d.Percentile(0.999)) << " | "
      << Ms(d.max()) << " | " << Ms(r.r.ack.Percentile(0.5)) << " | " << Ms(r.r.ack.Percentile(0.99)) << " | "
      << Fmt("%.0f%%", r.r.broker_cpu_pct) << " | "
      << (r.r.delivered_per_s() > 0 ? Fmt("%.0f", r.r.broker_cpu_pct * 1e4 / r.r.delivered_per_s()) : "-") << " | "
      << Fmt("%.0f%%", r.r.generator_cpu_pct()) << " | " << Mb(r.r.broker_rss_max_kb) << " | " << r.r.lost() << " | "
      << r.r.errors << (r.r.error.empty() ? "" : " (FAILED: " + r.r.error + ")") << " |\n";
  };
  for (BrokerKind k : kAllKinds) {
    if (const Row* r = Find(k, "saturation")) line(Label(k), *r);
    if (k == BrokerKind::kCourierFull) {
      if (const Row* r = Find(k, "pull")) line("(c) Courier sync full, PULL receivers", *r);
      if (const Row* r = Find(k, "group")) line("(c) Courier sync full, groups of 8 (deliveries/s)", *r);
      if (const Row* r = Find(k, "qos0")) line("(c) Courier sync full, senders publish at QoS 0", *r);
      if (const Row* r = Find(k, "echo")) line("(c) Courier sync full, DEVICE copy echoed to the sending device", *r);
      if (const Row* r = Find(BrokerKind::kCourierPerListener, "saturation")) {
        line(Label(BrokerKind::kCourierPerListener), *r);
      }
    }
  }
}

// Every alternating run of (a) and (c) sync full, when there were several.
void Suite::ReportSaturationRuns(std::ostream& o) {
  const auto ps = FindAll(BrokerKind::kPlain, "saturation"), fs = FindAll(BrokerKind::kCourierFull, "saturation");
  if (ps.size() > 1 || fs.size() > 1) {
    auto list = [](const std::vector<const Row*>& rows) {
      return ListRuns(
          rows, [](const Row& r) { return Rate(r.r.delivered_per_s()); }, ", ");
    };
    std::string pairs;
    for (size_t i = 0; i < std::min(ps.size(), fs.size()); ++i) {
      const double p = ps[i]->r.delivered_per_s();
      if (p > 0) pairs += (pairs.empty() ? "" : ", ") + Fmt("%.2f×", fs[i]->r.delivered_per_s() / p);
    }
    o << "\n(a) and (c) sync full ran " << std::max(ps.size(), fs.size())
      << " times each, alternately, with both brokers up; their rows above are the median runs. Every run, in "
         "order: (a) "
      << list(ps) << " msg/s; (c) sync full " << list(fs)
      << " msg/s; sync full against the plain run just before it: " << pairs << ".\n";
  }
}

// What the saturation rows mean, and the plugin's commit counters over them.
void Suite::ReportCommits(std::ostream& o) {
  o << "\nPULL receivers do not subscribe to their inbox: each pulls (limit 100) after the last offset it holds, "
       "again at once while the response's head is ahead, else after 5 ms. In the groups row every message "
       "goes to 7 members, so *delivered* counts 7 deliveries per message sent. In the QoS 0 row the senders "
       "publish their Messages at QoS 0: the SENDER Signal, sent after the commit, is their acknowledgement "
       "either way, and the broker then writes no PUBACK. Every Courier row but the echo row runs with the "
       "default `plugin_opt_echo_to_sending_device false`: a sender's DEVICE copy goes to its user's other "
       "devices, not back to the device that sent it (each bench user has one device). The echo row sets it "
       "to true, one more packet per message to the sending connection.\n\n";
  o << "Courier's own counters (admin API `getStats`) over each run: how many messages one store commit (one "
       "LMDB write transaction, with `sync full` one fsync of data and one of the meta page) carried, and what "
       "a commit cost, measured inside the plugin on the broker's thread.\n\n";
  o << "| run | commits (whole run) | messages per commit | commit ms (mean) | broker thread inside commits |\n"
       "|---|---:|---:|---:|---:|\n";
  for (const auto& r : rows_) {
    static const std::set<std::string> kSaturationPhases = {"saturation", "pull", "group", "qos0", "echo"};
    if (!IsCourier(r.kind) || r.commits() <= 0 || !kSaturationPhases.contains(r.phase)) continue;
    o << "| " << Label(r.kind) << " " << r.phase << " | " << Fmt("%.0f", r.commits()) << " | "
      << Fmt("%.1f", r.per_commit()) << " | " << Fmt("%.2f", r.commit_ms()) << " | "
      << Fmt("%.0f%%", 100 * r.commit_share()) << " |\n";
  }
  o << "\n![throughput](throughput.png)\n\n";
}

void Suite::ReportLatency(std::ostream& o) {
  o << "## Latency against offered load\n\n";
  o << "The same 64 users, open loop: each sender sends on a fixed schedule (rates are fractions of Courier sync "
       "full's saturation above; for (b) fractions of its own), and latency is measured from the *scheduled* send "
       "time, so a generator or broker that falls behind shows it. *Machine stalls* is how late, in all, the "
       "generator's real-time probe threads (one per CPU, each sleeping 2 ms at a time) woke by 20 ms or more "
       "during the window, with the latest wake-up in brackets; at "
       "0.5 % of the window or more the run is marked *disturbed*: the machine stopped, every message in flight "
       "waited, and the tail is the machine's (docs/benchmark.md, Machine stalls).\n\n";
  o << "| configuration | offered msg/s | delivered msg/s | deliver p50 | p90 | p99 | p99.9 | max | ack p50 | ack p99 "
       "| "
       "broker CPU | lost | msgs per commit | commit ms | machine stalls ms (worst) |\n";
  o << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (BrokerKind k : kAllKinds) {
    for (const auto& r : rows_) {
      if (r.kind != k || r.phase != "rate") continue;
      const auto& d = r.r.deliver;
      o << "| " << Label(k) << " | " << Rate(r.spec.rate) << " | " << Rate(r.r.delivered_per_s()) << " | "
        << Ms(d.Percentile(0.5)) << " | " << Ms(d.Percentile(0.9)) << " | " << Ms(d.Percentile(0.99)) << " | "
        << Ms(d.Percentile(0.999)) << " | " << Ms(d.max()) << " | " << Ms(r.r.ack.Percentile(0.5)) << " | "
        << Ms(r.r.ack.Percentile(0.99)) << " | " << Fmt("%.0f%%", r.r.broker_cpu_pct) << " | " << r.r.lost()
        << (r.r.error.empty() ? "" : " FAILED: " + r.r.error) << " | "
        << (r.commits() > 0 ? Fmt("%.1f | %.2f", r.per_commit(), r.commit_ms()) : std::string("- | -")) << " | "
        << StallText(r.r) << " |\n";
    }
  }
  o << "\n![latency](latency.png)\n\n";
}

void Suite::ReportHold(std::ostream& o) {
  // Scale points.
  o << "## Scale points\n\n";
  o << "### Connections held\n\n";
  o << "| configuration | connections | held at the end | connect + subscribe | offered msg/s | deliveries/s | "
       "deliver p99 | broker CPU | broker RSS MiB | broker fds |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& r : rows_) {
    if (r.phase != "hold") continue;
    o << "| " << Label(r.kind) << " | " << r.r.connections << " | " << r.r.connected_at_end << " | "
      << Fmt("%.1f s", r.r.setup_s) << " | " << Rate(r.spec.rate) << " | " << Rate(r.r.delivered_per_s()) << " | "
      << Ms(r.r.deliver.Percentile(0.99)) << " ms | " << Fmt("%.0f%%", r.r.broker_cpu_pct) << " | "
      << Mb(r.r.broker_rss_kb) << " | " << r.r.broker_fds << (r.r.error.empty() ? "" : " FAILED: " + r.r.error)
      << " |\n";
  }
  o << "\n"
    << hold_conns_ / 2 << " users with two devices each (" << hold_conns_
    << " connections); one device per user sends, one message per user every 10 s, and both devices of the "
       "receiver get it (two deliveries per message). The generator is split over several processes (libmosquitto "
       "needs three descriptors per client).\n\n";
}

void Suite::ReportFailures(std::ostream& o) {
  if (!failures_.empty()) {
    o << "\n## Failures\n\n";
    for (const auto& f : failures_) o << "- " << f << "\n";
  }
}

}  // namespace courier::bench
