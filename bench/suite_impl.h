// The suite's internals, shared by its files: the record of every run and
// the Suite that runs the phases and writes the report.
//
//   suite.cc          options, Main, running one load, finding runs
//   suite_phases.cc   the saturation, rate sweep and hold phases
//   suite_store.cc    the store phase: fill, restart, bytes on disk
//   suite_pg.cc       the postgres phase: Courier edges on one PostgreSQL
//   suite_machine.cc  the machine table: CPU, memory, fsync, load average
//   suite_report.cc   results.md: one function per section
//   suite_report_store.cc  results.md: the store sections
//   suite_report_pg.cc     results.md: the PostgreSQL section and its targets
//   suite_targets.cc  results.md: the targets table
//   suite_tsv.cc      runs.tsv: one column table for header and rows
//   suite_plots.cc    the plot data files and plots.gp
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "admin.h"
#include "broker.h"
#include "load.h"
#include "proc.h"
#include "store_stats.h"

namespace courier::proc {
class Postgres;
}

namespace courier::bench {

// The store phase's window per sender (256 senders). 2,048 messages in flight
// keep a sync os broker saturated (by hand, window 8 filled faster than 64).
// A bigger burst raises glibc's arena for good, so RssAnon follows the
// largest burst rather than the stored messages (docs/benchmark.md, Heap).
constexpr int kFillWindow = 8;

// One finished run.
struct Row {
  BrokerKind kind;
  std::string phase;  // saturation, rate, pull, group, hold, fill
  LoadSpec spec;
  LoadResult r;
  CourierStats before, after;  // the plugin's counters around the run (Courier)
  double wall_s = 0;           // the whole run: setup, warm-up, window, drain
  // Share of the run's wall time the broker thread spent inside store commits.
  double commit_share() const {
    return wall_s > 0 ? (after.commit_us_total - before.commit_us_total) / 1e6 / wall_s : 0;
  }
  double commits() const { return after.commits - before.commits; }
  double per_commit() const { return commits() > 0 ? (after.accepted - before.accepted) / commits() : 0; }
  double commit_ms() const {
    return commits() > 0 ? (after.commit_us_total - before.commit_us_total) / commits() / 1000.0 : 0;
  }
};

// Every run's figure, in order, for the report.
std::string ListRuns(const std::vector<const Row*>& rows, const std::function<std::string(const Row&)>& figure,
                     const char* sep);

struct HeapPoint {
  int64_t messages = 0;
  ProcSample courier;
  double heap_in_use = -1;  // the broker's heap in use (getStats heapInUseBytes), -1 unknown
};

struct RestartPoint {
  std::string what;
  bool ok = false;
  double to_port_s = 0, to_pull_s = 0;
  int entries = 0;
  int32_t head = 0;
  std::string error;
};

// Writes runs.tsv: one line per run, the columns of suite_tsv.cc.
void WriteRunsTsv(const std::string& path, const std::vector<Row>& rows);

class Suite {
 public:
  bool quick = false;
  double seconds = 0;  // > 0: every load run's measured window (a smoke test), warm-up at most as long
  std::string out, plugin, mosquitto, note;
  std::set<std::string> phases;

  int Main();

 private:
  // Running (suite.cc).
  void Log(const std::string& s);
  std::unique_ptr<Broker> Start(BrokerKind kind, std::vector<std::string> extra = {},
                                const std::string& pg_conninfo = "");
  LoadSpec Standard(BrokerKind kind) const;
  Row* Run(Broker& b, const std::string& phase, LoadSpec spec);
  // (a) and (c) sync full in `phase`, alternately, sat_reps_ times each, with
  // both brokers up, so that the machine's load drifting between runs falls
  // on both. Returns the sync full broker (null if it did not start).
  std::unique_ptr<Broker> RunAlternately(const std::string& phase, const std::function<LoadSpec(BrokerKind)>& spec);
  bool Want(const std::string& p) const { return phases.empty() || phases.count(p); }

  // Phases (suite_phases.cc, suite_store.cc).
  void Saturation();
  void Sweep();
  void Hold();
  void Store();
  void FillPlainReference(const LoadSpec& fill);
  // Fills `b` step by step to each heap point; returns the messages stored.
  int64_t FillCourier(Broker& b, const LoadSpec& fill);
  void RestartFull(Broker& b);
  void RestartPlainReference();
  void PostgresPhase();
  // A fresh database on `pg` for one configuration; its conninfo, "" on failure.
  std::string PgDatabase(proc::Postgres& pg, const std::string& name);
  void PgSaturation(proc::Postgres& pg);
  void PgTwoEdges(proc::Postgres& pg);
  void PgCrossEdge(proc::Postgres& pg);
  // Run() with the load split over edge a and edge b (when b is not null),
  // and the CPU of the server tree rooted at `server` (when > 0).
  Row* RunEdges(Broker& a, Broker* b, pid_t server, const std::string& phase, LoadSpec spec);

  // Finding runs (suite.cc).
  // The run of `kind` in `phase` (at `rate`); of repeated runs, the median by delivered msg/s.
  const Row* Find(BrokerKind kind, const std::string& phase, double rate = -1) const;
  // The same, the median by send→deliver p99: for the runs at a fixed offered
  // rate. Runs that machine stalls disturbed count only when all of them were.
  const Row* FindByP99(BrokerKind kind, const std::string& phase, double rate = -1) const;
  static const Row* Median(std::vector<const Row*> rows, const std::function<double(const Row&)>& key);
  std::vector<const Row*> FindAll(BrokerKind kind, const std::string& phase, double rate = -1) const;
  double Saturated(BrokerKind kind) const;
  // RssAnon of the Courier broker minus the plain broker's: idle against
  // idle, after traffic against after the same traffic.
  int64_t PluginHeapKb(const HeapPoint& h) const {
    return h.courier.rss_anon_kb - (h.messages == 0 ? plain_ref_idle_.rss_anon_kb : plain_ref_after_.rss_anon_kb);
  }

  // The report (suite_report*.cc, suite_targets.cc, suite_machine.cc).
  void Report();
  std::string Machine();
  void ReportIntro(std::ostream& o);
  void ReportSaturation(std::ostream& o);
  void ReportSaturationRuns(std::ostream& o);
  void ReportCommits(std::ostream& o);
  void ReportLatency(std::ostream& o);
  void ReportHold(std::ostream& o);
  void ReportStore(std::ostream& o);
  void ReportTables(std::ostream& o);
  void ReportBodies(std::ostream& o);
  void ReportHeap(std::ostream& o);
  void ReportTargets(std::ostream& o);
  void ReportThroughputTargets(std::ostream& o);
  void ReportLatencyTarget(std::ostream& o);
  void ReportScaleTargets(std::ostream& o);
  void ReportHeapTargets(std::ostream& o);
  void ReportPostgres(std::ostream& o);
  void ReportPostgresSaturation(std::ostream& o);
  void ReportPostgresCross(std::ostream& o);
  void ReportPostgresTargets(std::ostream& o);
  void ReportFailures(std::ostream& o);

  // Plots (suite_plots.cc).
  void Plots();
  void WriteSaturationDat();
  void WriteLatencyDat();
  void WriteHeapDat();
  void WritePlotScript();

  double warmup_ = 2, duration_ = 8, drain_ = 5;
  int sat_reps_ = 3;  // alternating saturation runs of (a) and (c) sync full
  std::vector<double> fractions_;
  std::vector<double> persist_fractions_;
  std::vector<Row> rows_;
  std::vector<std::string> failures_;
  // store phase
  int64_t fill_total_ = 0;
  std::vector<int64_t> heap_points_;
  std::vector<HeapPoint> heap_;
  ProcSample plain_ref_idle_, plain_ref_after_, courier_idle_;
  int64_t plain_ref_messages_ = 0;
  double fill_rate_ = 0, fill_s_ = 0;
  std::vector<RestartPoint> restarts_;
  int64_t stored_messages_ = 0, stored_copies_ = 0, du_bytes_ = 0;
  storage::PageSpace store_pages_;  // after the fill, the broker running
  storage::MessageSpace store_scan_;
  std::string store_scan_error_;
  int payload_ = 100;
  int hold_conns_ = 10000;
  double fsync_us_ = 0;
  // postgres phase
  std::string pg_version_;
  double pg_light_rate_ = 500;  // offered msg/s of the cross-edge run
  std::string load_start_, load_end_;
  int64_t started_ns_ = 0;
};

// The machine's fsync latency in `dir` (100 4 KiB writes, each followed by
// fdatasync), in µs per write.
double MeasureFsyncUs(const std::string& dir);
// The first three fields of /proc/loadavg.
std::string LoadAvg();

}  // namespace courier::bench
