// results.md: the targets table, each target against what was measured.
#include <algorithm>
#include <cmath>

#include "report_text.h"
#include "suite_impl.h"

namespace courier::bench {
namespace {

const char* Verdict(bool ok) { return ok ? "met" : "**missed**"; }

}  // namespace

void Suite::ReportTargets(std::ostream& o) {
  o << "## Targets\n\n| target | measured | ratio | |\n|---|---|---:|---|\n";
  ReportThroughputTargets(o);
  ReportLatencyTarget(o);
  ReportScaleTargets(o);
  ReportHeapTargets(o);
  ReportPostgresTargets(o);
}

void Suite::ReportThroughputTargets(std::ostream& o) {
  const double plain = Saturated(BrokerKind::kPlain), persist = Saturated(BrokerKind::kPersist),
               full = Saturated(BrokerKind::kCourierFull);
  if (plain > 0 && full > 0) {
    o << "| Courier sync full ≥ 0.5× plain QoS1 relay at saturation | " << Rate(full) << " vs " << Rate(plain)
      << " msg/s | " << Fmt("%.2f×", full / plain) << " | " << Verdict(full >= 0.5 * plain) << " |\n";
    if (const Row* q = Find(BrokerKind::kCourierFull, "qos0")) {
      const double q0 = q->r.delivered_per_s();
      o << "| the same, senders publishing at QoS 0 | " << Rate(q0) << " vs " << Rate(plain) << " msg/s | "
        << Fmt("%.2f×", q0 / plain) << " | " << Verdict(q0 >= 0.5 * plain) << " |\n";
    }
  }
  if (persist > 0 && full > 0) {
    o << "| Courier sync full ≥ 20× mosquitto persistence (b) | " << Rate(full) << " vs " << Rate(persist)
      << " msg/s | " << Fmt("%.1f×", full / persist) << " | " << Verdict(full >= 20 * persist) << " |\n";
  }
}

// p99 send→deliver of (c) sync full against (a) at half of (c)'s saturation.
void Suite::ReportLatencyTarget(std::ostream& o) {
  const double full = Saturated(BrokerKind::kCourierFull);
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
            rows, [](const Row& r) { return Ms(r.r.deliver.Percentile(0.99)) + (r.r.disturbed() ? "*" : ""); }, " / ");
      };
      runs = " (medians of the runs without machine stalls; runs in order: " + list(cs) + " against " + list(ps) +
             " ms; * disturbed by machine stalls)";
    }
    // A p99 that machine stalls may have set says nothing about the broker.
    const bool judged = !c->r.disturbed() && !p->r.disturbed();
    o << "| at half of Courier's saturation (" << Rate(half) << " msg/s offered), Courier p99 send→deliver ≤ 2× "
      << "plain's | " << Ms(int64_t(cp)) << " ms vs " << Ms(int64_t(pp)) << " ms" << runs << " | "
      << Fmt("%.1f×", cp / pp) << " | "
      << (judged ? Verdict(cp <= 2 * pp) : "**not judged**: machine stalls disturbed every run of one side") << " |\n";
  }
}

void Suite::ReportScaleTargets(std::ostream& o) {
  for (const auto& r : rows_) {
    if (r.phase == "hold" && r.kind == BrokerKind::kCourierFull) {
      o << "| " << hold_conns_ << " connections held (Courier sync full) | " << r.r.connected_at_end << " of "
        << r.r.connections << " | " << Fmt("%.2f", double(r.r.connected_at_end) / std::max(1, hold_conns_)) << " | "
        << Verdict(r.r.connected_at_end >= hold_conns_ && r.r.error.empty()) << " |\n";
    }
  }
  for (const auto& r : restarts_) {
    if (r.what.rfind("plain", 0) == 0) continue;
    o << "| restart with " << stored_messages_ << " messages stored < 2 s, " << r.what << " | "
      << Fmt("%.3f s to a PULL answer", r.to_pull_s) << " | " << Fmt("%.2f× the limit", r.to_pull_s / 2.0) << " | "
      << Verdict(r.ok && r.to_pull_s < 2.0) << " |\n";
  }
  if (stored_copies_ > 0) {
    const double per = double(du_bytes_) / double(stored_copies_);
    o << "| ≤ payload + 96 B (" << payload_ + 96 << " B) per stored copy | " << Fmt("%.0f B", per) << " | "
      << Fmt("%.2f×", per / (payload_ + 96)) << " | " << Verdict(per <= payload_ + 96) << " |\n";
  }
}

void Suite::ReportHeapTargets(std::ostream& o) {
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
      << " | " << Verdict(per_msg < 1.0) << " |\n";
    if (mid->heap_in_use >= 0 && last.heap_in_use >= 0 && added > 0) {
      const double in_use = last.heap_in_use - mid->heap_in_use;
      o << "| the same, heap in use (mallinfo2) | " << Fmt("%+.2f MiB", in_use / 1048576.0) << " from " << mid->messages
        << " to " << last.messages << " stored messages | " << Fmt("%.2f B per message", in_use / added) << " | "
        << Verdict(in_use / added < 1.0) << " |\n";
    }
  }
}

}  // namespace courier::bench
