#include "suite.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <set>

#include "options.h"
#include "report_text.h"
#include "suite_impl.h"

namespace courier::bench {

void Suite::Log(const std::string& s) {
  std::fprintf(stderr, "%s\n", s.c_str());
  std::ofstream(out + "/progress.log", std::ios::app) << s << "\n";
}

std::unique_ptr<Broker> Suite::Start(BrokerKind kind, std::vector<std::string> extra, const std::string& pg_conninfo) {
  BrokerSpec bs;
  bs.kind = kind;
  bs.extra = std::move(extra);
  bs.pg_conninfo = pg_conninfo;
  bs.plugin = plugin;
  bs.mosquitto = mosquitto;
  auto b = std::make_unique<Broker>(bs);
  std::string err;
  if (!b->Start(&err)) {
    failures_.push_back(std::string(KindName(kind)) + ": " + err);
    Log("FAILED to start " + std::string(KindName(kind)) + ": " + err);
    return nullptr;
  }
  Log(Fmt("-- %s broker pid %d on 127.0.0.1:%d", KindName(kind), b->pid(), b->port()));
  return b;
}

// The same load shape for every configuration: 64 users in 32 pairs, one
// device each, every device sends to its peer and receives from it.
LoadSpec Suite::Standard(BrokerKind kind) const {
  LoadSpec s;
  s.mode = IsCourier(kind) ? Mode::kCourier : Mode::kPlain;
  s.clean_session = kind != BrokerKind::kPersist;
  s.users = 64;
  s.devices = 1;
  s.window = 16;
  s.payload = payload_;
  s.procs = 1;
  s.warmup_s = warmup_;
  s.duration_s = duration_;
  s.drain_s = drain_;
  return s;
}

Row* Suite::Run(Broker& b, const std::string& phase, LoadSpec spec) {
  spec.port = b.port();
  spec.broker_pid = b.pid();
  CourierStats before, after;
  if (IsCourier(b.kind())) before = FetchStats("127.0.0.1", b.port());
  const int64_t t0 = NowNs();
  LoadResult r = RunLoad(spec);
  const double wall_s = double(NowNs() - t0) / 1e9;
  if (IsCourier(b.kind())) after = FetchStats("127.0.0.1", b.port());
  Log(Fmt("%-12s %-10s ", KindName(b.kind()), phase.c_str()) + FormatRun(spec, r));
  if (!r.error.empty()) {
    failures_.push_back(std::string(KindName(b.kind())) + " " + phase + ": " + r.error);
    Log("broker log tail:\n" + b.LogTail(1500));
  }
  rows_.push_back(Row{b.kind(), phase, spec, std::move(r), before, after, wall_s});
  Row& row = rows_.back();
  if (before.ok && after.ok && row.commits() > 0) {
    Log(Fmt("             commits %.0f, %.1f messages per commit, %.2f ms per commit, %.0f%% of the run in commits",
            row.commits(), row.per_commit(), row.commit_ms(), 100 * row.commit_share()));
  }
  return &row;
}

const Row* Suite::Find(BrokerKind kind, const std::string& phase, double rate) const {
  return Median(FindAll(kind, phase, rate), [](const Row& r) { return r.r.delivered_per_s(); });
}

const Row* Suite::FindByP99(BrokerKind kind, const std::string& phase, double rate) const {
  std::vector<const Row*> all = FindAll(kind, phase, rate), calm;
  for (const Row* r : all) {
    if (!r->r.disturbed()) calm.push_back(r);
  }
  return Median(calm.empty() ? all : calm, [](const Row& r) { return double(r.r.deliver.Percentile(0.99)); });
}

// Of repeated runs, the median by `key` (the lower middle of an even count).
const Row* Suite::Median(std::vector<const Row*> rows, const std::function<double(const Row&)>& key) {
  if (rows.empty()) return nullptr;
  std::sort(rows.begin(), rows.end(), [&](const Row* a, const Row* b) { return key(*a) < key(*b); });
  return rows[(rows.size() - 1) / 2];
}

std::vector<const Row*> Suite::FindAll(BrokerKind kind, const std::string& phase, double rate) const {
  std::vector<const Row*> found;
  for (const auto& row : rows_) {
    if (row.kind == kind && row.phase == phase && (rate < 0 || std::fabs(row.spec.rate - rate) < 0.5)) {
      found.push_back(&row);
    }
  }
  return found;
}

double Suite::Saturated(BrokerKind kind) const {
  const Row* r = Find(kind, "saturation");
  return r && r->r.error.empty() ? r->r.delivered_per_s() : 0;
}

std::unique_ptr<Broker> Suite::RunAlternately(const std::string& phase,
                                              const std::function<LoadSpec(BrokerKind)>& spec) {
  auto plain = Start(BrokerKind::kPlain);
  auto full = Start(BrokerKind::kCourierFull);
  for (int i = 0; i < sat_reps_; ++i) {
    if (plain) Run(*plain, phase, spec(BrokerKind::kPlain));
    if (full) Run(*full, phase, spec(BrokerKind::kCourierFull));
  }
  return full;
}

int Suite::Main() {
  started_ns_ = NowNs();
  load_start_ = LoadAvg();
  if (quick) {
    warmup_ = 1;
    duration_ = 3;
    drain_ = 3;
    fractions_ = {0.25, 0.5, 0.9};
    persist_fractions_ = {0.5};
    hold_conns_ = 2000;
    heap_points_ = {0, 50000, 100000};
    sat_reps_ = 1;
  } else {
    fractions_ = {0.1, 0.25, 0.5, 0.75, 0.9};
    persist_fractions_ = {0.25, 0.5, 0.75};
    heap_points_ = {0, 100000, 250000, 500000, 1000000};
  }
  if (seconds > 0) {
    duration_ = seconds;
    warmup_ = std::min(warmup_, seconds);
  }
  fsync_us_ = MeasureFsyncUs(out);
  Log(Fmt("courier_bench suite%s -> %s (fsync %.0f µs, load %s)", quick ? " --quick" : "", out.c_str(), fsync_us_,
          load_start_.c_str()));
  if (Want("saturation")) Saturation();
  if (Want("rate")) Sweep();
  if (Want("hold")) Hold();
  if (Want("store")) Store();
  if (Want("postgres")) PostgresPhase();
  load_end_ = LoadAvg();
  Report();
  Plots();
  Log(Fmt("done in %.0f s: %s/results.md", double(NowNs() - started_ns_) / 1e9, out.c_str()));
  return failures_.empty() ? 0 : 1;
}

std::string FormatRun(const LoadSpec& spec, const LoadResult& r) {
  char buf[1024];
  std::snprintf(
      buf, sizeof buf,
      "%s users=%d dev=%d rate=%.0f window=%d payload=%d | conns %d/%d setup %.2fs | sent %.0f/s "
      "delivered %.0f/s (%llu/%llu, lost %llu) | deliver p50 %s p90 %s p99 %s p99.9 %s max %s | "
      "ack p50 %s p99 %s max %s | broker cpu %.0f%% rss %lld kB anon %lld kB fds %lld | generator cpu %.0f%% | "
      "machine stalls %lld, %s in all, worst %s%s%s | errors %llu%s%s%s%s",
      spec.mode == Mode::kCourier ? "courier" : "plain", spec.users, spec.devices, spec.rate, spec.window, spec.payload,
      r.connected_at_end, r.connections, r.setup_s, r.sent_per_s(), r.delivered_per_s(),
      (unsigned long long)r.delivered_window, (unsigned long long)r.expected_window, (unsigned long long)r.lost(),
      FormatNs(r.deliver.Percentile(0.5)).c_str(), FormatNs(r.deliver.Percentile(0.9)).c_str(),
      FormatNs(r.deliver.Percentile(0.99)).c_str(), FormatNs(r.deliver.Percentile(0.999)).c_str(),
      FormatNs(r.deliver.max()).c_str(), FormatNs(r.ack.Percentile(0.5)).c_str(),
      FormatNs(r.ack.Percentile(0.99)).c_str(), FormatNs(r.ack.max()).c_str(), r.broker_cpu_pct,
      (long long)r.broker_rss_kb, (long long)r.broker_rss_anon_kb, (long long)r.broker_fds, r.generator_cpu_pct(),
      (long long)r.stalls.stalls, FormatNs(r.stalls.stalled_ns).c_str(), FormatNs(r.stalls.worst_ns).c_str(),
      r.stalls.realtime ? "" : " (probe not real-time)", r.disturbed() ? " (disturbed)" : "",
      (unsigned long long)r.errors, r.first_error.empty() ? "" : " first: ", r.first_error.c_str(),
      r.error.empty() ? "" : " | FAILED: ", r.error.c_str());
  std::string line = buf;
  if (spec.port_b > 0) {
    line += Fmt(" | edges %s: edge B cpu %.0f%%, same-edge p50 %s p99 %s, cross-edge p50 %s p99 %s",
                SplitName(spec.split), r.broker_b_cpu_pct, FormatNs(r.deliver_same.Percentile(0.5)).c_str(),
                FormatNs(r.deliver_same.Percentile(0.99)).c_str(), FormatNs(r.deliver_cross.Percentile(0.5)).c_str(),
                FormatNs(r.deliver_cross.Percentile(0.99)).c_str());
  }
  if (spec.tree_pid > 0) line += Fmt(" | postgres cpu %.0f%%", r.tree_cpu_pct);
  return line;
}

int RunSuite(const std::vector<std::string>& argv, const std::string& default_plugin,
             const std::string& default_mosquitto) {
  Args a(argv, {"quick"});
  Suite s;
  s.quick = a.Has("quick");
  a.Str("quick", "");
  s.out = a.Str("out", "");
  s.plugin = a.Str("plugin", default_plugin);
  s.mosquitto = a.Str("mosquitto", default_mosquitto);
  s.note = a.Str("note", "");
  s.seconds = a.Num("seconds", 0);
  std::string phases = a.Str("phases", "");
  for (size_t i = 0; i < phases.size();) {
    size_t j = phases.find(',', i);
    if (j == std::string::npos) j = phases.size();
    if (j > i) s.phases.insert(phases.substr(i, j - i));
    i = j + 1;
  }
  if (!a.CheckAllUsed() || s.out.empty()) {
    std::fprintf(stderr,
                 "usage: courier_bench suite --out DIR [--quick] [--phases saturation,rate,hold,store,postgres] "
                 "[--plugin PATH] [--mosquitto PATH] [--note TEXT] [--seconds S]\n%s\n",
                 a.error().c_str());
    return 2;
  }
  RaiseFdLimit();
  return s.Main();
}

}  // namespace courier::bench
