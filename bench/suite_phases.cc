// The suite's load phases: saturation (every configuration as fast as its
// window allows), the rate sweep (open loop at fractions of saturation) and
// the connections held.
#include <algorithm>
#include <cmath>
#include <vector>

#include "suite_impl.h"

namespace courier::bench {

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
  for (BrokerKind k :
       {BrokerKind::kPersist, BrokerKind::kCourierNoMeta, BrokerKind::kCourierOs, BrokerKind::kCourierPerListener}) {
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

}  // namespace courier::bench
