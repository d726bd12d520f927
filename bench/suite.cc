#include "suite.h"

#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include "admin.h"
#include "broker.h"
#include "options.h"
#include "proc.h"
#include "store_stats.h"

namespace courier::bench {
namespace {

// The store phase's window per sender (256 senders). 2,048 messages in flight
// keep a sync os broker saturated (by hand, window 8 filled faster than 64).
// A bigger burst raises glibc's arena for good, so RssAnon follows the
// largest burst rather than the stored messages (docs/benchmark.md, Heap).
constexpr int kFillWindow = 8;

std::string Fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string Fmt(const char* f, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

std::string Ms(int64_t ns) { return Fmt("%.2f", double(ns) / 1e6); }
std::string Rate(double v) { return v >= 100 ? Fmt("%.0f", v) : Fmt("%.1f", v); }
std::string Mb(int64_t kb) { return Fmt("%.1f", double(kb) / 1024.0); }

const char* Label(BrokerKind k) {
  switch (k) {
    case BrokerKind::kPlain: return "(a) plain QoS1 relay";
    case BrokerKind::kPersist: return "(b) mosquitto persistence";
    case BrokerKind::kCourierFull: return "(c) Courier sync full";
    case BrokerKind::kCourierOs: return "(c) Courier sync os";
    case BrokerKind::kCourierNoMeta: return "(c) Courier sync nometa";
    case BrokerKind::kCourierPerListener: return "(c) Courier sync full, per_listener_settings true";
  }
  return "?";
}

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
                     const char* sep) {
  std::string v;
  for (const Row* r : rows) v += (v.empty() ? "" : sep) + figure(*r);
  return v;
}

// "<stalled ms> (<worst ms>)", with ", disturbed" when the stalls may set
// the tail.
std::string StallText(const LoadResult& r) {
  return Ms(r.stalls.stalled_ns) + " (" + Ms(r.stalls.worst_ns) + (r.disturbed() ? "), disturbed" : ")");
}

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

struct Table {
  std::string name;
  int64_t entries = 0, branch = 0, leaf = 0, overflow = 0;
};

class Suite {
 public:
  bool quick = false;
  std::string out, plugin, mosquitto, note;
  std::set<std::string> phases;

  int Main();

 private:
  void Log(const std::string& s);
  std::unique_ptr<Broker> Start(BrokerKind kind, std::vector<std::string> extra = {});
  LoadSpec Standard(BrokerKind kind) const;
  Row* Run(Broker& b, const std::string& phase, LoadSpec spec);
  // (a) and (c) sync full in `phase`, alternately, sat_reps_ times each, with
  // both brokers up, so that the machine's load drifting between runs falls
  // on both. Returns the sync full broker (null if it did not start).
  std::unique_ptr<Broker> RunAlternately(const std::string& phase, const std::function<LoadSpec(BrokerKind)>& spec);
  void Saturation();
  void Sweep();
  void Hold();
  void Store();
  void Report();
  void Plots();
  std::string Machine();
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
  bool Want(const std::string& p) const { return phases.empty() || phases.count(p); }

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
  int64_t stored_messages_ = 0, stored_copies_ = 0, du_bytes_ = 0, mdb_pages_used_ = 0;
  int64_t mdb_free_pages_ = 0, mdb_freelist_tree_ = 0;
  std::vector<Table> tables_;
  StoreScan store_scan_;
  std::string store_scan_error_;
  int payload_ = 100;
  int hold_conns_ = 10000;
  double fsync_us_ = 0;
  std::string load_start_, load_end_;
  int64_t started_ns_ = 0;
};

void Suite::Log(const std::string& s) {
  std::fprintf(stderr, "%s\n", s.c_str());
  std::ofstream(out + "/progress.log", std::ios::app) << s << "\n";
}

std::unique_ptr<Broker> Suite::Start(BrokerKind kind, std::vector<std::string> extra) {
  BrokerSpec bs;
  bs.kind = kind;
  bs.extra = std::move(extra);
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

void Suite::Saturation() {
  // The first target is the ratio of (c) sync full to (a); the report takes
  // each one's median run.
  {
    auto full = RunAlternately("saturation", [this](BrokerKind k) { return Standard(k); });
    if (full) {
      const BrokerKind k = BrokerKind::kCourierFull;
      LoadSpec s = Standard(k);
      s.send_qos = 0;
      Run(*full, "qos0", s);
      s = Standard(k);
      s.pull = true;
      Run(*full, "pull", s);
      s = Standard(k);
      s.group_size = 8;
      Run(*full, "group", s);
    }
  }
  // What the default of leaving the sending device's own DEVICE copy out
  // saves: the same load with the copy echoed back to it.
  if (auto echo = Start(BrokerKind::kCourierFull, {"plugin_opt_echo_to_sending_device true"})) {
    Run(*echo, "echo", Standard(BrokerKind::kCourierFull));
  }
  // per_listener_settings true: no tick, one commit per message.
  for (BrokerKind k : {BrokerKind::kPersist, BrokerKind::kCourierNoMeta, BrokerKind::kCourierOs,
                       BrokerKind::kCourierPerListener}) {
    auto b = Start(k);
    if (b) Run(*b, "saturation", Standard(k));
  }
}

void Suite::Sweep() {
  double s = Saturated(BrokerKind::kCourierFull);
  if (s <= 0) {
    failures_.push_back("rate sweep skipped: no Courier sync full saturation figure");
    return;
  }
  auto at = [&](BrokerKind k, double rate) {
    LoadSpec spec = Standard(k);
    spec.rate = rate;
    spec.window = 1000;  // open loop: the schedule decides, the window only bounds memory
    return spec;
  };
  // The p99 target compares (a) and (c) sync full at half of (c)'s
  // saturation. One run's p99 there moved several-fold between suites, so
  // that point runs like the saturation pairs; the report takes each one's
  // median p99.
  const double half = std::round(0.5 * s);
  RunAlternately("rate", [&](BrokerKind k) { return at(k, half); });
  for (BrokerKind k : kAllKinds) {
    const bool paired = k == BrokerKind::kPlain || k == BrokerKind::kCourierFull;
    std::vector<double> rates;
    if (k == BrokerKind::kPersist) {
      const double p = Saturated(k);
      if (p <= 0) continue;
      for (double f : persist_fractions_) rates.push_back(std::round(f * p));
    } else {
      for (double f : fractions_) {
        const double rate = std::round(f * s);
        if (!(paired && rate == half)) rates.push_back(rate);
      }
    }
    auto b = Start(k);
    if (!b) continue;
    for (double rate : rates) Run(*b, "rate", at(k, rate));
  }
}

void Suite::Hold() {
  for (BrokerKind k : {BrokerKind::kCourierFull, BrokerKind::kPlain}) {
    auto b = Start(k);
    if (!b) continue;
    LoadSpec s = Standard(k);
    s.users = hold_conns_ / 2;
    s.devices = 2;  // a phone and a laptop per user
    s.senders_per_user = 1;
    s.rate = hold_conns_ / 20.0;  // light: one message per user every 10 s
    s.window = 16;
    // libmosquitto uses 3 descriptors per client: at most ~3,400 clients per process.
    s.procs = std::max(1, (hold_conns_ + 3399) / 3400);
    s.warmup_s = 2;
    s.duration_s = quick ? 5 : 10;
    s.setup_timeout_s = 180;
    Run(*b, "hold", s);
  }
}

// Per-table mdb_stat, the pages in use, and the freelist (free pages and the
// pages of its own tree).
std::vector<Table> MdbStat(const std::string& dir, int64_t* pages_used, int64_t* free_pages, int64_t* freelist_tree) {
  std::vector<Table> out;
  std::istringstream in(CommandOutput("mdb_stat -e -f -a '" + dir + "' 2>&1"));
  bool in_freelist = false;
  std::string line;
  Table* cur = nullptr;
  auto num = [](const std::string& l) { return std::strtoll(l.c_str() + l.find(':') + 1, nullptr, 10); };
  while (std::getline(in, line)) {
    if (line.rfind("Freelist Status", 0) == 0) {
      in_freelist = true;
    } else if (line.rfind("Status of ", 0) == 0) {
      in_freelist = false;
      out.push_back(Table{line.substr(10), 0, 0, 0, 0});
      cur = &out.back();
    } else if (in_freelist && line.find("Free pages:") != std::string::npos) {
      *free_pages = num(line);
    } else if (in_freelist && (line.find("Branch pages:") != std::string::npos ||
                               line.find("Leaf pages:") != std::string::npos ||
                               line.find("Overflow pages:") != std::string::npos)) {
      *freelist_tree += num(line);
    } else if (line.find("Number of pages used:") != std::string::npos) {
      *pages_used = num(line);
    } else if (cur && line.find("Branch pages:") != std::string::npos) {
      cur->branch = num(line);
    } else if (cur && line.find("Leaf pages:") != std::string::npos) {
      cur->leaf = num(line);
    } else if (cur && line.find("Overflow pages:") != std::string::npos) {
      cur->overflow = num(line);
    } else if (cur && line.find("Entries:") != std::string::npos) {
      cur->entries = num(line);
    }
  }
  return out;
}

void Suite::Store() {
  // Reference: plain Mosquitto, the same connections and traffic shape.
  LoadSpec fill;
  fill.users = 256;
  fill.window = kFillWindow;
  fill.payload = payload_;
  fill.procs = 2;
  fill.drain_s = 10;
  fill.warmup_s = 0;
  fill.duration_s = quick ? 120 : 300;  // time cap of each fill step
  {
    auto b = Start(BrokerKind::kPlain);
    if (b) {
      ::usleep(300000);
      plain_ref_idle_ = SampleProc(b->pid());
      LoadSpec s = fill;
      s.mode = Mode::kPlain;
      s.max_messages = heap_points_.size() > 1 ? heap_points_[1] : 100000;
      plain_ref_messages_ = s.max_messages;
      Run(*b, "fill", s);
      ::usleep(500000);
      plain_ref_after_ = SampleProc(b->pid());
    }
  }
  auto b = Start(BrokerKind::kCourierOs);
  if (!b) return;
  ::usleep(300000);
  courier_idle_ = SampleProc(b->pid());
  int64_t stored = 0;
  const int64_t t0 = NowNs();
  for (int64_t point : heap_points_) {
    if (point > stored) {
      LoadSpec s = fill;
      s.mode = Mode::kCourier;
      s.max_messages = point - stored;
      s.run_tag = Fmt("f%lld", static_cast<long long>(point));
      Row* row = Run(*b, "fill", s);
      if (!row->r.error.empty()) break;
      stored += static_cast<int64_t>(row->r.acked_window);
      fill_s_ += row->r.window_s;
    }
    ::usleep(500000);
    const ProcSample sample = SampleProc(b->pid());
    heap_.push_back(HeapPoint{stored, sample, FetchStats("127.0.0.1", b->port()).heap_in_use});
    Log(Fmt("   stored %lld messages: broker RSS %lld kB, RssAnon %lld kB, RssFile %lld kB, heap in use %.0f kB",
            static_cast<long long>(stored), static_cast<long long>(heap_.back().courier.rss_kb),
            static_cast<long long>(heap_.back().courier.rss_anon_kb),
            static_cast<long long>(heap_.back().courier.rss_file_kb), heap_.back().heap_in_use / 1024));
  }
  (void)t0;
  stored_messages_ = stored;
  fill_rate_ = fill_s_ > 0 ? double(stored) / fill_s_ : 0;
  tables_ = MdbStat(b->db_path(), &mdb_pages_used_, &mdb_free_pages_, &mdb_freelist_tree_);
  for (const auto& t : tables_) {
    if (t.name == "copies") stored_copies_ = t.entries;  // one value per stored copy (MDB_DUPSORT)
  }
  // Restart with the store full: warm (page cache kept), then cold (the
  // store's pages dropped from the page cache first).
  for (bool cold : {false, true}) {
    RestartPoint p;
    p.what = cold ? "cold (data.mdb dropped from page cache)" : "warm (page cache kept)";
    std::string err;
    double to_port = 0;
    if (!b->Restart(&err, &to_port, cold)) {
      p.error = err;
    } else {
      p.to_port_s = to_port;
      double pull = PullProbe("127.0.0.1", b->port(), "u0", "probe", 100, 30, &p.entries, &p.head, &p.error);
      if (pull >= 0) {
        p.ok = true;
        p.to_pull_s = to_port + pull;
      }
    }
    Log(Fmt("   restart %s: port %.3f s, PULL answered %.3f s (%d entries, head %d) %s", p.what.c_str(),
            p.to_port_s, p.to_pull_s, p.entries, p.head, p.error.c_str()));
    restarts_.push_back(p);
  }
  b->Stop();
  du_bytes_ = DiskUsage(b->db_path());
  if (!ScanStore(b->db_path(), &store_scan_, &store_scan_error_)) Log("   " + store_scan_error_);
  // Reference: how long plain Mosquitto takes to start on this machine.
  {
    auto pb = Start(BrokerKind::kPlain);
    if (pb) {
      RestartPoint p;
      p.what = "plain Mosquitto, no store (reference)";
      std::string err;
      p.ok = pb->Restart(&err, &p.to_port_s, false);
      p.error = err;
      restarts_.push_back(p);
    }
  }
}

std::string Suite::Machine() {
  std::string model = "?";
  {
    std::istringstream in(ReadWholeFile("/proc/cpuinfo"));
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("model name", 0) == 0) {
        model = line.substr(line.find(':') + 2);
        break;
      }
    }
  }
  int64_t mem_kb = 0;
  {
    std::istringstream in(ReadWholeFile("/proc/meminfo"));
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("MemTotal:", 0) == 0) mem_kb = std::strtoll(line.c_str() + 9, nullptr, 10);
    }
  }
  utsname u{};
  ::uname(&u);
  std::string version = CommandOutput("'" + mosquitto + "' -h 2>&1 | head -1");
  std::ostringstream o;
  o << "| | |\n|---|---|\n";
  o << "| CPU | " << model << " |\n";
  o << "| nproc | " << sysconf(_SC_NPROCESSORS_ONLN) << " |\n";
  o << "| memory | " << Fmt("%.1f GiB", double(mem_kb) / 1048576.0) << " |\n";
  o << "| kernel | " << u.release << " (" << u.machine << ") |\n";
  o << "| broker | " << version << " |\n";
  o << "| fsync | " << Fmt("%.0f µs per 4 KiB write + fdatasync in the results directory's file system", fsync_us_)
    << " |\n";
  o << "| load average | " << load_start_ << " at the start, " << load_end_ << " at the end |\n";
  if (!note.empty()) o << "| source | " << note << " |\n";
  return o.str();
}

double MeasureFsyncUs(const std::string& dir) {
  const std::string path = dir + "/.fsync-probe";
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
  if (fd < 0) return 0;
  char block[4096] = {};
  const int n = 100;
  const int64_t t0 = NowNs();
  for (int i = 0; i < n; ++i) {
    if (::pwrite(fd, block, sizeof block, (i % 16) * 4096) < 0) break;
    ::fdatasync(fd);
  }
  const int64_t t1 = NowNs();
  ::close(fd);
  ::unlink(path.c_str());
  return double(t1 - t0) / n / 1e3;
}

std::string LoadAvg() {
  std::string s = ReadWholeFile("/proc/loadavg");
  std::istringstream in(s);
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

void Suite::Plots() {
  // Data for gnuplot; plots.gp renders them (scripts/bench.sh runs it).
  {
    std::ofstream d(out + "/saturation.dat");
    d << "# config delivered_per_s deliver_p50_ms deliver_p99_ms ack_p99_ms broker_cpu_pct\n";
    for (BrokerKind k : kAllKinds) {
      const Row* r = Find(k, "saturation");
      if (!r) continue;
      d << '"' << KindName(k) << "\" " << r->r.delivered_per_s() << " " << Ms(r->r.deliver.Percentile(0.5)) << " "
        << Ms(r->r.deliver.Percentile(0.99)) << " " << Ms(r->r.ack.Percentile(0.99)) << " " << r->r.broker_cpu_pct
        << "\n";
    }
  }
  {
    std::ofstream d(out + "/latency.dat");
    for (BrokerKind k : kAllKinds) {
      d << "# " << KindName(k) << "\n";
      d << "# offered delivered_per_s p50_ms p90_ms p99_ms p999_ms max_ms ack_p50_ms ack_p99_ms\n";
      std::set<double> rates;
      for (const Row* r : FindAll(k, "rate")) {
        if (r->r.error.empty()) rates.insert(r->spec.rate);
      }
      for (double rate : rates) {
        const Row& r = *FindByP99(k, "rate", rate);  // one point per rate: the median of repeated runs
        const auto& h = r.r.deliver;
        d << r.spec.rate << " " << r.r.delivered_per_s() << " " << Ms(h.Percentile(0.5)) << " "
          << Ms(h.Percentile(0.9)) << " " << Ms(h.Percentile(0.99)) << " " << Ms(h.Percentile(0.999)) << " "
          << Ms(h.max()) << " " << Ms(r.r.ack.Percentile(0.5)) << " " << Ms(r.r.ack.Percentile(0.99)) << "\n";
      }
      d << "\n\n";
    }
  }
  {
    std::ofstream d(out + "/heap.dat");
    d << "# stored_messages plugin_heap_mb(RssAnon - plain RssAnon) rss_mb rss_file_mb heap_in_use_mb\n";
    for (const auto& h : heap_) {
      d << h.messages << " " << Mb(PluginHeapKb(h)) << " "
        << Mb(h.courier.rss_kb) << " " << Mb(h.courier.rss_file_kb) << " "
        << (h.heap_in_use >= 0 ? Fmt("%.1f", h.heap_in_use / 1048576.0) : std::string("NaN")) << "\n";
    }
  }
  // A plot is written only when its phase ran: gnuplot stops at the first
  // plot without data, and --phases runs part of the suite.
  bool have_saturation = false, have_rate = false;
  for (BrokerKind k : kAllKinds) {
    have_saturation = have_saturation || Find(k, "saturation");
    have_rate = have_rate || !FindAll(k, "rate").empty();
  }
  std::ofstream g(out + "/plots.gp");
  g << R"GP(# gnuplot script written by courier_bench suite; run it in this directory.
set terminal pngcairo size 900,520 font "sans,10"
set style fill solid 0.8 border -1
set grid ytics
set linetype 1 lc rgb "#4477aa" lw 2 pt 7
set linetype 2 lc rgb "#cc6677" lw 2 pt 7
set linetype 3 lc rgb "#228833" lw 2 pt 7
set linetype 4 lc rgb "#ccbb44" lw 2 pt 7
set linetype 5 lc rgb "#aa3377" lw 2 pt 7
)GP";
  if (have_saturation) {
    g << R"GP(
set output "throughput.png"
set title "Delivered msg/s at saturation (64 users, 1:1, window 16, 100 B; higher is better)"
set ylabel "delivered messages / s (log scale)"
set logscale y
set boxwidth 0.6
set yrange [10:*]
unset key
plot "saturation.dat" using 0:2:($0+1):xtic(1) with boxes lc variable, \
     "" using 0:2:(sprintf("%.0f", $2)) with labels offset 0,1
unset logscale y
set yrange [*:*]
)GP";
  }
  if (have_rate) {
    g << R"GP(
set output "latency.png"
set terminal pngcairo size 1100,800 font "sans,10"
set multiplot layout 2,2 title "Latency against offered load (log-log; lower is better)"
set logscale xy
set key top left
set xlabel "offered msg/s"
set ylabel "ms"
)GP";
    const char* panels[][3] = {{"3", "send -> deliver p50", ""},
                               {"5", "send -> deliver p99", ""},
                               {"6", "send -> deliver p99.9", ""},
                               {"9", "send -> ack p99", ""}};
    for (auto& p : panels) {
      g << "set title \"" << p[1] << "\"\nplot ";
      for (size_t i = 0; i < std::size(kAllKinds); ++i) {
        g << (i ? ", \\\n     " : "") << "\"latency.dat\" index " << i << " using 1:" << p[0]
          << " with linespoints lt " << i + 1 << " title \"" << KindName(kAllKinds[i]) << "\"";
      }
      g << "\n";
    }
    g << R"GP(unset multiplot
unset logscale xy
set terminal pngcairo size 900,520 font "sans,10"
)GP";
  }
  if (!heap_.empty()) {
    g << R"GP(
set output "heap.png"
set title "Courier broker memory against stored messages (sync os fill)"
set xlabel "stored messages"
set ylabel "MiB"
set key top left
set format x "%.0s%c"
plot "heap.dat" using 1:2 with linespoints lw 2 pt 7 title "plugin heap: RssAnon(Courier) - RssAnon(plain)", \
     "" using 1:5 with linespoints lw 2 pt 11 title "heap in use, whole broker (mallinfo2)", \
     "" using 1:4 with linespoints lw 2 pt 5 title "RssFile (LMDB map pages + libraries)", \
     "" using 1:3 with linespoints lw 2 pt 9 title "VmRSS total"
)GP";
  }
}

void Suite::Report() {
  std::ostringstream o;
  char when[64];
  std::time_t now = std::time(nullptr);
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S %Z", std::localtime(&now));
  o << "# Courier benchmark results\n\n";
  o << "Run " << when << (quick ? " with `--quick` (short windows, smaller scale points)" : " (standard suite)")
    << ", " << Fmt("%.0f s", double(NowNs() - started_ns_) / 1e9) << ". Every figure below comes from this one run: "
    << "each configuration's broker was started by the bench on a free loopback port with a fresh temporary "
       "directory, loaded by the same generator, and stopped by its pid.\n\n";
  o << "## Machine\n\n" << Machine() << "\n";
  o << "The load generator runs on the same cores as the broker (all traffic on 127.0.0.1), so every figure "
       "includes the generator's own CPU use; the machine was shared with other work (see load average).\n\n";

  const double plain = Saturated(BrokerKind::kPlain), persist = Saturated(BrokerKind::kPersist),
               full = Saturated(BrokerKind::kCourierFull);
  o << "## Saturation\n\n";
  o << "64 users in 32 pairs, one connection each; every user sends to its peer as fast as a window of 16 "
       "unacknowledged messages allows; " << payload_ << " B payload; senders publish at QoS 1 (one row at QoS 0); the plain relay delivers at QoS 1, Courier its "
       "stored copies at QoS 0 (`plugin_opt_delivery_qos` default). Measured over "
    << duration_ << " s after " << warmup_ << " s of warm-up. *delivered* counts messages arriving at the "
       "receiver inside the window. Latencies in ms; CPU is the broker's, % of one core; *CPU µs/msg* is broker CPU time "
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
  {
    const auto ps = FindAll(BrokerKind::kPlain, "saturation"), fs = FindAll(BrokerKind::kCourierFull, "saturation");
    if (ps.size() > 1 || fs.size() > 1) {
      auto list = [](const std::vector<const Row*>& rows) {
        return ListRuns(rows, [](const Row& r) { return Rate(r.r.delivered_per_s()); }, ", ");
      };
      std::string pairs;
      for (size_t i = 0; i < std::min(ps.size(), fs.size()); ++i) {
        const double p = ps[i]->r.delivered_per_s();
        if (p > 0) pairs += (pairs.empty() ? "" : ", ") + Fmt("%.2f×", fs[i]->r.delivered_per_s() / p);
      }
      o << "\n(a) and (c) sync full ran " << std::max(ps.size(), fs.size())
        << " times each, alternately, with both brokers up; their rows above are the median runs. Every run, in "
           "order: (a) "
        << list(ps) << " msg/s; (c) sync full " << list(fs) << " msg/s; sync full against the plain run just before it: "
        << pairs << ".\n";
    }
  }
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

  o << "## Latency against offered load\n\n";
  o << "The same 64 users, open loop: each sender sends on a fixed schedule (rates are fractions of Courier sync "
       "full's saturation above; for (b) fractions of its own), and latency is measured from the *scheduled* send "
       "time, so a generator or broker that falls behind shows it. *Machine stalls* is how late, in all, the "
       "generator's real-time probe threads (one per CPU, each sleeping 2 ms at a time) woke by 20 ms or more "
       "during the window, with the latest wake-up in brackets; at "
       "0.5 % of the window or more the run is marked *disturbed*: the machine stopped, every message in flight "
       "waited, and the tail is the machine's (docs/benchmark.md, Machine stalls).\n\n";
  o << "| configuration | offered msg/s | delivered msg/s | deliver p50 | p90 | p99 | p99.9 | max | ack p50 | ack p99 | "
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
  o << "\n" << hold_conns_ / 2 << " users with two devices each (" << hold_conns_
    << " connections); one device per user sends, one message per user every 10 s, and both devices of the "
       "receiver get it (two deliveries per message). The generator is split over several processes (libmosquitto "
       "needs three descriptors per client).\n\n";

  o << "### Store: fill, restart, bytes per copy, plugin heap\n\n";
  o << Fmt("Filled with sync os, 256 users, window %d: %lld messages (%lld stored copies: each 1:1 message is stored "
           "once in the receiver's log and once in the sender's, both showing one stored body) in %.1f s, %.0f msg/s.\n\n",
           kFillWindow, static_cast<long long>(stored_messages_), static_cast<long long>(stored_copies_), fill_s_, fill_rate_);
  o << "**Restart** with the store full, from fork/exec of mosquitto until the port accepts, and until a PULL "
       "(limit 100, from offset 0) is answered:\n\n";
  o << "| restart | port accepts | PULL answered | entries |\n|---|---:|---:|---:|\n";
  for (const auto& r : restarts_) {
    o << "| " << r.what << " | " << Fmt("%.3f s", r.to_port_s) << " | "
      << (r.to_pull_s > 0 ? Fmt("%.3f s", r.to_pull_s) : std::string("-")) << " | " << r.entries
      << (r.error.empty() ? "" : " (" + r.error + ")") << " |\n";
  }
  o << "\n**Bytes on disk per stored copy** (" << payload_ << " B payload): "
    << Fmt("du of the data directory %.1f MiB / %lld copies = **%.0f B per copy**", double(du_bytes_) / 1048576.0,
           static_cast<long long>(stored_copies_),
           stored_copies_ ? double(du_bytes_) / double(stored_copies_) : 0.0)
    << Fmt(" (LMDB pages in use: %lld × 4 KiB).", static_cast<long long>(mdb_pages_used_)) << " Per table (mdb_stat):\n\n";
  o << "| table | entries | branch pages | leaf pages | overflow pages | bytes per entry | bytes per stored copy |\n";
  o << "|---|---:|---:|---:|---:|---:|---:|\n";
  int64_t counted = 0;
  for (const auto& t : tables_) {
    const int64_t bytes = (t.branch + t.leaf + t.overflow) * 4096;
    counted += t.branch + t.leaf + t.overflow;
    o << "| " << t.name << " | " << t.entries << " | " << t.branch << " | " << t.leaf << " | " << t.overflow << " | "
      << (t.entries ? Fmt("%.0f", double(bytes) / double(t.entries)) : std::string("-")) << " | "
      << (stored_copies_ ? Fmt("%.1f", double(bytes) / double(stored_copies_)) : std::string("-")) << " |\n";
  }
  if (!tables_.empty() && mdb_pages_used_ > 0) {
    // mdb_stat counts a MDB_DUPSORT table's main tree only: the pages of the
    // per-user sub-databases of `copies` (a user's values once they outgrow
    // a page) are the pages in use that no table and no freelist claims
    // (2 meta pages aside).
    const int64_t sub = mdb_pages_used_ - counted - mdb_free_pages_ - mdb_freelist_tree_ - 2;
    auto row = [&](const std::string& name, int64_t pages) {
      o << "| " << name << " | | | " << pages << " | | | "
        << (stored_copies_ ? Fmt("%.1f", double(pages) * 4096 / double(stored_copies_)) : std::string("-"))
        << " |\n";
    };
    row("copies: per-user sub-databases (not in mdb_stat's count)", sub);
    row("free pages (LMDB freelist, with its own tree)", mdb_free_pages_ + mdb_freelist_tree_);
  }
  if (store_scan_.bodies.records > 0 && store_scan_.copies.records > 0) {
    const auto& sc = store_scan_;
    const double bodies = double(sc.bodies.records), copies = double(sc.copies.records);
    const double value = double(sc.bodies.value_bytes) / bodies, payload = double(sc.payload_bytes) / bodies;
    const double body_pages = double((sc.bodies.leaf_pages + sc.bodies.branch_pages + sc.bodies.overflow_pages) *
                                     sc.bodies.page_size);
    const double copy_pages = double((sc.copies.leaf_pages + sc.copies.branch_pages + sc.copies.overflow_pages) *
                                     sc.copies.page_size);
    o << "\nWhere a copy's bytes go (schema 2: each message's content is stored once in `bodies`, each copy is a "
         "fixed-size record in `copies`): "
      << Fmt("%lld bodies for %lld copies (%.2f copies per body); a body's value %.0f B = payload %.0f B + %.0f B "
             "of record (the Body protobuf: id, from, to, timestamps, user_offset, sender offset, expiry, copy "
             "count), key %.0f B, LMDB node header and slot 10 B, on %.0f B of pages per body (leaf pages %.0f%% "
             "full, appended in sequence order), so %.0f B per copy; a copy record %.0f B (offset, body sequence, "
             "flags; the user key once per user) packed into the per-user sub-databases, appended per user "
             "(main tree %.1f B per copy, plus the sub-databases' row above).",
             static_cast<long long>(sc.bodies.records), static_cast<long long>(sc.copies.records),
             copies / bodies, value, payload, value - payload, double(sc.bodies.key_bytes) / bodies,
             body_pages / bodies, 100 * sc.body_leaf_fill(), body_pages / copies,
             double(sc.copies.value_bytes) / copies, copy_pages / copies)
      << " The dedup table adds one entry per message (sender and id, the sender's offset), the "
         "expiry index one per RECEIVER copy with an expiry (expiry, body sequence, offset, user), and LMDB's free "
         "pages the rest of du: about two commits' worth of pages, a constant that a bigger store spreads thinner.\n";
  }
  o << "\n**Plugin heap**: RssAnon (heap, anonymous memory) of the Courier broker minus RssAnon of a plain broker "
       "that relayed "
    << plain_ref_messages_ << " messages over the same 256 connections (" << Mb(plain_ref_after_.rss_anon_kb)
    << " MiB; " << Mb(plain_ref_idle_.rss_anon_kb) << " MiB idle; Courier idle after start "
    << Mb(courier_idle_.rss_anon_kb) << " MiB). Measured with the clients gone, after each fill step. RssFile "
       "counts the LMDB map's pages the broker has touched: page cache, shared and reclaimable, not heap. The 0 row "
       "compares both brokers idle after start. *Heap in use* is what the whole Courier broker process holds "
       "allocated at that moment (`getStats` `heapInUseBytes`, glibc `mallinfo2`): RssAnon also keeps what the "
       "allocator took for the requests in flight during a burst and has not given back.\n\n";
  o << "| stored messages | plugin heap MiB | RssAnon MiB | heap in use MiB | RssFile MiB | VmRSS MiB |\n"
       "|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& h : heap_) {
    o << "| " << h.messages << " | " << Mb(PluginHeapKb(h)) << " | " << Mb(h.courier.rss_anon_kb) << " | "
      << (h.heap_in_use >= 0 ? Fmt("%.1f", h.heap_in_use / 1048576.0) : std::string("-")) << " | "
      << Mb(h.courier.rss_file_kb) << " | " << Mb(h.courier.rss_kb) << " |\n";
  }
  o << "\n![heap](heap.png)\n\n";

  // Targets.
  o << "## Targets\n\n| target | measured | ratio | |\n|---|---|---:|---|\n";
  auto verdict = [](bool ok) { return ok ? "met" : "**missed**"; };
  if (plain > 0 && full > 0) {
    o << "| Courier sync full ≥ 0.5× plain QoS1 relay at saturation | " << Rate(full) << " vs " << Rate(plain)
      << " msg/s | " << Fmt("%.2f×", full / plain) << " | " << verdict(full >= 0.5 * plain) << " |\n";
    if (const Row* q = Find(BrokerKind::kCourierFull, "qos0")) {
      const double q0 = q->r.delivered_per_s();
      o << "| the same, senders publishing at QoS 0 | " << Rate(q0) << " vs " << Rate(plain) << " msg/s | "
        << Fmt("%.2f×", q0 / plain) << " | " << verdict(q0 >= 0.5 * plain) << " |\n";
    }
  }
  if (persist > 0 && full > 0) {
    o << "| Courier sync full ≥ 20× mosquitto persistence (b) | " << Rate(full) << " vs " << Rate(persist)
      << " msg/s | " << Fmt("%.1f×", full / persist) << " | " << verdict(full >= 20 * persist) << " |\n";
  }
  {
    const double half = std::round(0.5 * full);
    const Row* c = FindByP99(BrokerKind::kCourierFull, "rate", half);
    const Row* p = FindByP99(BrokerKind::kPlain, "rate", half);
    if (c && p && p->r.deliver.count() && c->r.deliver.count()) {
      const double cp = double(c->r.deliver.Percentile(0.99)), pp = double(p->r.deliver.Percentile(0.99));
      const auto ps = FindAll(BrokerKind::kPlain, "rate", half), cs = FindAll(BrokerKind::kCourierFull, "rate", half);
      std::string runs;
      if (ps.size() > 1 || cs.size() > 1) {
        auto list = [](const std::vector<const Row*>& rows) {
          return ListRuns(
              rows,
              [](const Row& r) { return Ms(r.r.deliver.Percentile(0.99)) + (r.r.disturbed() ? "*" : ""); }, " / ");
        };
        runs = " (medians of the runs without machine stalls; runs in order: " + list(cs) + " against " + list(ps) +
               " ms; * disturbed by machine stalls)";
      }
      // A p99 that machine stalls may have set says nothing about the broker.
      const bool judged = !c->r.disturbed() && !p->r.disturbed();
      o << "| at half of Courier's saturation (" << Rate(half) << " msg/s offered), Courier p99 send→deliver ≤ 2× "
        << "plain's | " << Ms(int64_t(cp)) << " ms vs " << Ms(int64_t(pp)) << " ms" << runs << " | "
        << Fmt("%.1f×", cp / pp) << " | "
        << (judged ? verdict(cp <= 2 * pp) : "**not judged**: machine stalls disturbed every run of one side")
        << " |\n";
    }
  }
  for (const auto& r : rows_) {
    if (r.phase == "hold" && r.kind == BrokerKind::kCourierFull) {
      o << "| " << hold_conns_ << " connections held (Courier sync full) | " << r.r.connected_at_end << " of "
        << r.r.connections << " | " << Fmt("%.2f", double(r.r.connected_at_end) / std::max(1, hold_conns_))
        << " | " << verdict(r.r.connected_at_end >= hold_conns_ && r.r.error.empty()) << " |\n";
    }
  }
  for (const auto& r : restarts_) {
    if (r.what.rfind("plain", 0) == 0) continue;
    o << "| restart with " << stored_messages_ << " messages stored < 2 s, " << r.what << " | "
      << Fmt("%.3f s to a PULL answer", r.to_pull_s) << " | " << Fmt("%.2f× the limit", r.to_pull_s / 2.0) << " | "
      << verdict(r.ok && r.to_pull_s < 2.0) << " |\n";
  }
  if (stored_copies_ > 0) {
    const double per = double(du_bytes_) / double(stored_copies_);
    o << "| ≤ payload + 96 B (" << payload_ + 96 << " B) per stored copy | " << Fmt("%.0f B", per) << " | "
      << Fmt("%.2f×", per / (payload_ + 96)) << " | " << verdict(per <= payload_ + 96) << " |\n";
  }
  if (heap_.size() >= 3) {
    // A per-message structure in memory (an id set, an offset index) costs
    // tens of bytes per stored message. Allocator and LMDB page caches grow
    // while the B-tree deepens and then level off. So: bytes of RssAnon per
    // message added over the second half of the fill.
    const auto& last = heap_.back();
    const HeapPoint* mid = &heap_[1];
    for (const auto& h : heap_) {
      if (h.messages > 0 && h.messages <= last.messages / 2) mid = &h;
    }
    const double grow = double(last.courier.rss_anon_kb - mid->courier.rss_anon_kb) * 1024.0;
    const double added = double(last.messages - mid->messages);
    const double per_msg = added > 0 ? grow / added : 0;
    o << "| plugin heap does not grow with stored messages | " << Fmt("%+.2f MiB", grow / 1048576.0) << " RssAnon from "
      << mid->messages << " to " << last.messages << " stored messages | " << Fmt("%.2f B per message", per_msg)
      << " | " << verdict(per_msg < 1.0) << " |\n";
    if (mid->heap_in_use >= 0 && last.heap_in_use >= 0 && added > 0) {
      const double in_use = last.heap_in_use - mid->heap_in_use;
      o << "| the same, heap in use (mallinfo2) | " << Fmt("%+.2f MiB", in_use / 1048576.0) << " from "
        << mid->messages << " to " << last.messages << " stored messages | "
        << Fmt("%.2f B per message", in_use / added) << " | " << verdict(in_use / added < 1.0) << " |\n";
    }
  }
  if (!failures_.empty()) {
    o << "\n## Failures\n\n";
    for (const auto& f : failures_) o << "- " << f << "\n";
  }
  o << "\nRaw rows: `runs.tsv`; plot data: `saturation.dat`, `latency.dat`, `heap.dat`; progress: `progress.log`.\n";
  std::ofstream(out + "/results.md") << o.str();

  std::ofstream t(out + "/runs.tsv");
  t << "config\tphase\tmode\tusers\tdevices\trate\twindow\tpayload\tprocs\tconnections\theld\tsetup_s\twindow_s\tsent\t"
       "sent_window\tacked_window\tdelivered_window\texpected_window\tlost\tdelivered_per_s\tp50_ms\tp90_ms\tp99_ms\t"
       "p999_ms\tmax_ms\tack_p50_ms\tack_p90_ms\tack_p99_ms\tack_p999_ms\tack_max_ms\tbroker_cpu_pct\tbroker_rss_kb\t"
       "broker_rss_max_kb\tbroker_rss_anon_kb\tbroker_fds\tstalls\tstalled_ms\tstall_worst_ms\tdisturbed\terrors\t"
       "error\n";
  for (const auto& r : rows_) {
    const auto& d = r.r.deliver;
    const auto& a = r.r.ack;
    t << KindName(r.kind) << "\t" << r.phase << "\t" << (r.spec.mode == Mode::kCourier ? "courier" : "plain") << "\t"
      << r.spec.users << "\t" << r.spec.devices << "\t" << r.spec.rate << "\t" << r.spec.window << "\t"
      << r.spec.payload << "\t" << r.spec.procs << "\t" << r.r.connections << "\t" << r.r.connected_at_end << "\t"
      << r.r.setup_s << "\t" << r.r.window_s << "\t" << r.r.sent << "\t" << r.r.sent_window << "\t"
      << r.r.acked_window << "\t" << r.r.delivered_window << "\t" << r.r.expected_window << "\t" << r.r.lost()
      << "\t" << r.r.delivered_per_s() << "\t" << Ms(d.Percentile(0.5)) << "\t" << Ms(d.Percentile(0.9)) << "\t"
      << Ms(d.Percentile(0.99)) << "\t" << Ms(d.Percentile(0.999)) << "\t" << Ms(d.max()) << "\t"
      << Ms(a.Percentile(0.5)) << "\t" << Ms(a.Percentile(0.9)) << "\t" << Ms(a.Percentile(0.99)) << "\t"
      << Ms(a.Percentile(0.999)) << "\t" << Ms(a.max()) << "\t" << r.r.broker_cpu_pct << "\t" << r.r.broker_rss_kb
      << "\t" << r.r.broker_rss_max_kb << "\t" << r.r.broker_rss_anon_kb << "\t" << r.r.broker_fds << "\t"
      << r.r.stalls.stalls << "\t" << Ms(r.r.stalls.stalled_ns) << "\t" << Ms(r.r.stalls.worst_ns) << "\t"
      << (r.r.disturbed() ? 1 : 0) << "\t" << r.r.errors << "\t" << r.r.error << "\n";
  }
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
  fsync_us_ = MeasureFsyncUs(out);
  Log(Fmt("courier_bench suite%s -> %s (fsync %.0f µs, load %s)", quick ? " --quick" : "", out.c_str(), fsync_us_,
          load_start_.c_str()));
  if (Want("saturation")) Saturation();
  if (Want("rate")) Sweep();
  if (Want("hold")) Hold();
  if (Want("store")) Store();
  load_end_ = LoadAvg();
  Report();
  Plots();
  Log(Fmt("done in %.0f s: %s/results.md", double(NowNs() - started_ns_) / 1e9, out.c_str()));
  return failures_.empty() ? 0 : 1;
}

}  // namespace

std::string FormatRun(const LoadSpec& spec, const LoadResult& r) {
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "%s users=%d dev=%d rate=%.0f window=%d payload=%d | conns %d/%d setup %.2fs | sent %.0f/s "
                "delivered %.0f/s (%llu/%llu, lost %llu) | deliver p50 %s p90 %s p99 %s p99.9 %s max %s | "
                "ack p50 %s p99 %s max %s | broker cpu %.0f%% rss %lld kB anon %lld kB fds %lld | generator cpu %.0f%% | "
                "machine stalls %lld, %s in all, worst %s%s%s | errors %llu%s%s%s%s",
                spec.mode == Mode::kCourier ? "courier" : "plain", spec.users, spec.devices, spec.rate, spec.window,
                spec.payload, r.connected_at_end, r.connections, r.setup_s, r.sent_per_s(), r.delivered_per_s(),
                (unsigned long long)r.delivered_window, (unsigned long long)r.expected_window,
                (unsigned long long)r.lost(), FormatNs(r.deliver.Percentile(0.5)).c_str(),
                FormatNs(r.deliver.Percentile(0.9)).c_str(), FormatNs(r.deliver.Percentile(0.99)).c_str(),
                FormatNs(r.deliver.Percentile(0.999)).c_str(), FormatNs(r.deliver.max()).c_str(),
                FormatNs(r.ack.Percentile(0.5)).c_str(), FormatNs(r.ack.Percentile(0.99)).c_str(),
                FormatNs(r.ack.max()).c_str(), r.broker_cpu_pct, (long long)r.broker_rss_kb,
                (long long)r.broker_rss_anon_kb, (long long)r.broker_fds, r.generator_cpu_pct(),
                (long long)r.stalls.stalls, FormatNs(r.stalls.stalled_ns).c_str(), FormatNs(r.stalls.worst_ns).c_str(),
                r.stalls.realtime ? "" : " (probe not real-time)", r.disturbed() ? " (disturbed)" : "",
                (unsigned long long)r.errors,
                r.first_error.empty() ? "" : " first: ", r.first_error.c_str(), r.error.empty() ? "" : " | FAILED: ",
                r.error.c_str());
  return buf;
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
  std::string phases = a.Str("phases", "");
  for (size_t i = 0; i < phases.size();) {
    size_t j = phases.find(',', i);
    if (j == std::string::npos) j = phases.size();
    if (j > i) s.phases.insert(phases.substr(i, j - i));
    i = j + 1;
  }
  if (!a.CheckAllUsed() || s.out.empty()) {
    std::fprintf(stderr,
                 "usage: courier_bench suite --out DIR [--quick] [--phases saturation,rate,hold,store] "
                 "[--plugin PATH] [--mosquitto PATH] [--note TEXT]\n%s\n",
                 a.error().c_str());
    return 2;
  }
  RaiseFdLimit();
  return s.Main();
}

}  // namespace courier::bench
