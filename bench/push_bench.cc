// courier_bench push: does a slow push gateway slow message delivery?
//
// Two Courier sync full brokers in one run: one without push, one with
// plugin_opt_push_url pointing at a gateway (in this process, on loopback)
// that answers every call after 2 s. On the second, every receiving user
// also has an offline device registered for push, so every message makes a
// due push. Both get the same light open-loop load, alternately; the table
// compares send->deliver and send->ack p99 (medians of the runs).
#include "push_bench.h"

#include <mosquitto.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "broker.h"
#include "histogram.h"
#include "http_server.h"
#include "messaging.pb.h"
#include "options.h"
#include "suite.h"

namespace courier::bench {
namespace {

constexpr int kUsers = 64;
constexpr auto kGatewayDelay = std::chrono::milliseconds(2000);

// Registers an offline push device for every user of the load: connects as
// the user with client id <user>-push, publishes the registration, leaves.
bool RegisterPushDevices(int port, const std::string& user_prefix, std::string* error) {
  for (int u = 0; u < kUsers; ++u) {
    const std::string user = user_prefix + std::to_string(u);
    const std::string id = user + "-push";
    mosquitto* m = mosquitto_new(id.c_str(), true, nullptr);
    if (!m) return *error = "mosquitto_new failed", false;
    mosquitto_username_pw_set(m, user.c_str(), nullptr);
    int rc = mosquitto_connect(m, "127.0.0.1", port, 30);
    if (rc == MOSQ_ERR_SUCCESS) {
      v1::Signal s;
      s.set_id("reg");
      s.set_type(1);
      s.mutable_push()->set_app("bench");
      s.mutable_push()->set_token("token-" + user);
      const std::string bytes = s.SerializeAsString();
      rc = mosquitto_publish(m, nullptr, ("msg/" + user + "/signal").c_str(), static_cast<int>(bytes.size()),
                             bytes.data(), 1, false);
      for (int i = 0; i < 20 && rc == MOSQ_ERR_SUCCESS; ++i) mosquitto_loop(m, 10, 1);
      mosquitto_disconnect(m);
    }
    mosquitto_destroy(m);
    if (rc != MOSQ_ERR_SUCCESS) return *error = std::string("registering ") + id + ": " + mosquitto_strerror(rc), false;
  }
  return true;
}

struct Side {
  std::string name;
  std::vector<LoadResult> runs;
  int64_t P99(bool ack) const {
    std::vector<int64_t> v;
    for (const auto& r : runs) v.push_back(ack ? r.ack.Percentile(0.99) : r.deliver.Percentile(0.99));
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[(v.size() - 1) / 2];
  }
  uint64_t Lost() const {
    uint64_t n = 0;
    for (const auto& r : runs) n += r.lost();
    return n;
  }
};

// A Courier sync full broker with the `extra` config lines; nullptr (and a
// line on stderr) when it does not start.
std::unique_ptr<Broker> StartBroker(const std::string& mosquitto_bin, const std::string& plugin,
                                    std::vector<std::string> extra) {
  BrokerSpec bs{.kind = BrokerKind::kCourierFull,
                .mosquitto = mosquitto_bin,
                .plugin = plugin,
                .extra = std::move(extra),
                .pg_conninfo = {},
                .keep_dir = false};
  auto b = std::make_unique<Broker>(bs);
  std::string e;
  if (!b->Start(&e)) {
    std::fprintf(stderr, "courier_bench push: %s\n", e.c_str());
    return std::unique_ptr<Broker>();
  }
  return b;
}

// `reps` rounds of one load run on each side, alternately (a side's runs
// go to its `runs`).
void RunAlternately(LoadSpec spec, int reps, Broker& none, Side* a_side, Broker& slow, Side* b_side) {
  for (int i = 0; i < reps; ++i) {
    for (auto* pair : {a_side, b_side}) {
      Broker& b = pair == a_side ? none : slow;
      spec.port = b.port();
      spec.broker_pid = b.pid();
      spec.run_tag = "p" + std::to_string(i);
      LoadResult r = RunLoad(spec);
      std::printf("%-50s %s\n", pair->name.c_str(), FormatRun(spec, r).c_str());
      pair->runs.push_back(std::move(r));
    }
  }
}

// The Markdown of push.md: the setup, the table, the p99 ratio.
std::string Report(const Side& a_side, const Side& b_side, double rate, int reps, double duration_s, uint64_t calls) {
  const double ratio = a_side.P99(false) > 0 ? double(b_side.P99(false)) / double(a_side.P99(false)) : 0;
  std::string md;
  md += "## Push: a slow gateway and message delivery\n\n";
  md += "Command: `courier_bench push --out DIR` (in `scripts/bench.sh`). " + std::to_string(kUsers) +
        " users in pairs, " + std::to_string(int(rate)) + " msg/s offered, " + std::to_string(reps) +
        " alternating runs of " + std::to_string(int(duration_s)) +
        " s each; medians. With push, every receiver also has an offline device registered, so every message "
        "makes a due push; the gateway answers each call after 2 s.\n\n";
  md += "| configuration | send->deliver p99 | send->ack p99 | lost |\n|---|---|---|---|\n";
  for (const Side* s : {&a_side, &b_side}) {
    md += "| " + s->name + " | " + FormatNs(s->P99(false)) + " | " + FormatNs(s->P99(true)) + " | " +
          std::to_string(s->Lost()) + " |\n";
  }
  char line[256];
  std::snprintf(line, sizeof line,
                "\nsend->deliver p99 with the slow gateway: %.2fx the run without push. "
                "Gateway calls received during the runs: %llu.\n",
                ratio, (unsigned long long)calls);
  md += line;
  return md;
}

}  // namespace

int RunPushBench(const std::vector<std::string>& argv, const std::string& default_plugin,
                 const std::string& default_mosquitto) {
  Args a(argv, {"quick"});
  const bool quick = a.Has("quick");
  a.Str("quick", "");
  const std::string out = a.Str("out", "");
  const std::string plugin = a.Str("plugin", default_plugin);
  const std::string mosquitto_bin = a.Str("mosquitto", default_mosquitto);
  const double rate = a.Num("rate", 1000);
  if (!a.CheckAllUsed() || out.empty()) {
    std::fprintf(stderr,
                 "usage: courier_bench push --out DIR [--quick] [--rate R] [--plugin PATH] [--mosquitto PATH]\n%s\n",
                 a.error().c_str());
    return 2;
  }
  std::atomic<uint64_t> calls{0};
  push::HttpServer gateway([&](const push::HttpRequest&) {
    ++calls;
    return push::HttpResponse{.status = 200, .body = "", .delay = kGatewayDelay};
  });
  std::string err;
  if (!gateway.Start("127.0.0.1", 0, &err)) {
    std::fprintf(stderr, "courier_bench push: gateway: %s\n", err.c_str());
    return 1;
  }
  auto none = StartBroker(mosquitto_bin, plugin, {});
  auto slow = StartBroker(mosquitto_bin, plugin,
                          {"plugin_opt_push_url http://127.0.0.1:" + std::to_string(gateway.port()) + "/push"});
  if (!none || !slow) return 1;
  LoadSpec spec;
  spec.mode = Mode::kCourier;
  spec.users = kUsers;
  spec.rate = rate;
  spec.window = 1000;
  spec.warmup_s = quick ? 1 : 2;
  spec.duration_s = quick ? 3 : 8;
  spec.drain_s = 3;
  if (!RegisterPushDevices(slow->port(), spec.user_prefix, &err)) {
    std::fprintf(stderr, "courier_bench push: %s\n", err.c_str());
    return 1;
  }
  Side a_side{"(c) Courier sync full, no push", {}}, b_side{"(c) same, push to a gateway answering after 2 s", {}};
  const int reps = quick ? 1 : 3;
  RunAlternately(spec, reps, *none, &a_side, *slow, &b_side);
  const std::string md = Report(a_side, b_side, rate, reps, spec.duration_s, calls.load());
  std::ofstream(out + "/push.md") << md;
  std::printf("%s", md.c_str());
  none->Stop();
  slow->Stop();
  gateway.Stop();
  return 0;
}

}  // namespace courier::bench
