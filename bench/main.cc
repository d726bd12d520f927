// courier_bench: load generator and benchmark suite for Courier and plain
// Mosquitto. See docs/benchmark.md.
//
//   courier_bench run   [options]   one load against one broker
//   courier_bench suite --out DIR [--quick]   the standard suite
#include <mosquitto.h>
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "admin.h"
#include "broker.h"
#include "load.h"
#include "options.h"
#include "proc.h"
#include "push_bench.h"
#include "suite.h"

#ifndef COURIER_BENCH_PLUGIN
#define COURIER_BENCH_PLUGIN ""
#endif
#ifndef COURIER_BENCH_MOSQUITTO
#define COURIER_BENCH_MOSQUITTO "/usr/sbin/mosquitto"
#endif

namespace courier::bench {
namespace {

constexpr const char* kUsage = R"(usage:
  courier_bench run [options]            one load, one broker
  courier_bench suite --out DIR [--quick] [--plugin PATH] [--mosquitto PATH]
  courier_bench push --out DIR [--quick] [--rate R]   p99 with a 2 s push gateway vs no push

run: where
  --broker KIND        start a broker: plain | persist | courier-full | courier-nometa | courier-os
                       | courier-perlistener (sync full, per_listener_settings true)
  --port P             or use a running broker on 127.0.0.1:P
  --broker-pid PID     (with --port) sample its CPU and RSS from /proc
  --plugin PATH        mosquitto_courier.so (default: the one built with the bench)
  --mosquitto PATH     mosquitto binary (default: the one CMake found)
  --keep               keep the broker's temporary directory
run: load
  --mode courier|plain courier: Message on msg/{u}/send, ack = SENDER Signal;
                       plain: QoS 1 relay, ack = PUBACK (default: from --broker)
  --users N            users (even; user 2k talks with 2k+1)       [64]
  --devices D          connections per user                        [1]
  --senders-per-user S devices of each user that send              [1]
  --rate R             offered msg/s over all senders; 0 = as fast as the window allows [0]
  --window W           most unacknowledged messages per sender     [16]
  --payload B          payload bytes                               [100]
  --group-size G       send to groups of G users instead of 1:1 (fails if the server refuses)
  --pull               receivers PULL instead of taking pushes
  --pull-limit K       entries per PULL                            [100]
  --receipts           receivers send a `received` receipt per message
  --send-qos Q         QoS of the senders' Messages, 0 or 1 (courier mode;
                       the SENDER Signal is the ack either way)     [1]
  --persistent         persistent sessions (clean_session false)   [on for persist]
  --warmup S --duration S --drain S                                [2 8 5]
  --messages N         fill mode: send exactly N messages, then stop (--duration is the time cap)
  --procs P            generator processes                         [1]
)";

std::vector<std::string> Rest(int argc, char** argv, int from) {
  std::vector<std::string> v;
  for (int i = from; i < argc; ++i) v.emplace_back(argv[i]);
  return v;
}

// The load options of `run` (all but the broker's).
void ReadLoadOptions(Args& a, BrokerKind kind, LoadSpec& spec) {
  spec.port = static_cast<int>(a.Num("port", 0));
  spec.broker_pid = static_cast<pid_t>(a.Num("broker-pid", -1));
  spec.users = static_cast<int>(a.Num("users", spec.users));
  spec.devices = static_cast<int>(a.Num("devices", spec.devices));
  spec.senders_per_user = static_cast<int>(a.Num("senders-per-user", spec.senders_per_user));
  spec.rate = a.Num("rate", 0);
  spec.window = static_cast<int>(a.Num("window", spec.window));
  spec.payload = static_cast<int>(a.Num("payload", spec.payload));
  spec.group_size = static_cast<int>(a.Num("group-size", 0));
  spec.pull = a.Has("pull");
  a.Str("pull", "");
  spec.pull_limit = static_cast<int>(a.Num("pull-limit", spec.pull_limit));
  spec.send_qos = static_cast<int>(a.Num("send-qos", spec.send_qos));
  spec.receipts = a.Has("receipts");
  a.Str("receipts", "");
  spec.clean_session = !(a.Has("persistent") || kind == BrokerKind::kPersist);
  a.Str("persistent", "");
  spec.warmup_s = a.Num("warmup", spec.warmup_s);
  spec.duration_s = a.Num("duration", spec.duration_s);
  spec.drain_s = a.Num("drain", spec.drain_s);
  spec.max_messages = static_cast<int64_t>(a.Num("messages", 0));
  spec.procs = static_cast<int>(a.Num("procs", 1));
}

// The plugin's commit counters over the run.
void PrintCommits(const CourierStats& before, const LoadSpec& spec) {
  CourierStats after = FetchStats(spec.host, spec.port);
  const double commits = after.commits - before.commits;
  if (after.ok && commits > 0) {
    std::printf("courier: %.0f commits, %.1f messages per commit, %.2f ms per commit (mean), %.2f ms max\n", commits,
                (after.accepted - before.accepted) / commits,
                (after.commit_us_total - before.commit_us_total) / commits / 1000.0, after.commit_us_max / 1000.0);
  }
}

int Run(const std::vector<std::string>& argv) {
  Args a(argv, {"pull", "receipts", "persistent", "keep"});
  LoadSpec spec;
  BrokerKind kind = BrokerKind::kPlain;
  const std::string broker = a.Str("broker", "");
  if (!broker.empty() && !ParseKind(broker, &kind)) {
    std::fprintf(stderr, "courier_bench: unknown --broker '%s'\n", broker.c_str());
    return 2;
  }
  const std::string mode = a.Str("mode", broker.empty() ? "courier" : (IsCourier(kind) ? "courier" : "plain"));
  if (mode != "courier" && mode != "plain") {
    std::fprintf(stderr, "courier_bench: --mode is courier or plain\n");
    return 2;
  }
  spec.mode = mode == "courier" ? Mode::kCourier : Mode::kPlain;
  ReadLoadOptions(a, kind, spec);
  BrokerSpec bs;
  bs.kind = kind;
  bs.plugin = a.Str("plugin", COURIER_BENCH_PLUGIN);
  bs.mosquitto = a.Str("mosquitto", COURIER_BENCH_MOSQUITTO);
  bs.keep_dir = a.Has("keep");
  a.Str("keep", "");
  if (!a.CheckAllUsed()) {
    std::fprintf(stderr, "courier_bench: %s\n%s", a.error().c_str(), kUsage);
    return 2;
  }
  if (spec.send_qos != 0 && spec.send_qos != 1) {
    std::fprintf(stderr, "courier_bench: --send-qos must be 0 or 1\n%s", kUsage);
    return 2;
  }
  if (broker.empty() && spec.port == 0) {
    std::fprintf(stderr, "courier_bench: give --broker KIND or --port P\n%s", kUsage);
    return 2;
  }
  RaiseFdLimit();
  std::unique_ptr<Broker> b;
  if (!broker.empty()) {
    b = std::make_unique<Broker>(bs);
    std::string err;
    if (!b->Start(&err)) {
      std::fprintf(stderr, "courier_bench: %s\n", err.c_str());
      return 1;
    }
    spec.port = b->port();
    spec.broker_pid = b->pid();
    std::fprintf(stderr, "started %s broker pid %d on 127.0.0.1:%d (%s)\n", KindName(kind), b->pid(), b->port(),
                 b->dir().c_str());
  }
  const bool courier = b ? IsCourier(kind) : spec.mode == Mode::kCourier;
  CourierStats before = courier ? FetchStats(spec.host, spec.port) : CourierStats{};
  LoadResult r = RunLoad(spec);
  std::printf("%s\n", FormatRun(spec, r).c_str());
  if (before.ok) PrintCommits(before, spec);
  if (b) {
    if (!r.error.empty() || r.errors > 0) std::fprintf(stderr, "broker log tail:\n%s\n", b->LogTail().c_str());
    b->Stop();
  }
  return r.error.empty() ? 0 : 1;
}

}  // namespace
}  // namespace courier::bench

int main(int argc, char** argv) {
  mosquitto_lib_init();
  using namespace courier::bench;
  ::signal(SIGPIPE, SIG_IGN);
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "run") return Run(Rest(argc, argv, 2));
  if (cmd == "suite") return RunSuite(Rest(argc, argv, 2), COURIER_BENCH_PLUGIN, COURIER_BENCH_MOSQUITTO);
  if (cmd == "push") return RunPushBench(Rest(argc, argv, 2), COURIER_BENCH_PLUGIN, COURIER_BENCH_MOSQUITTO);
  std::fputs(kUsage, stderr);
  return 2;
}
