// The store phase: fill a sync os broker step by step (sampling its memory
// after each), restart it full (warm and cold), and measure the store on
// disk; plain Mosquitto relaying the same traffic is the reference.
#include <unistd.h>

#include "report_text.h"
#include "suite_impl.h"

namespace courier::bench {

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
  FillPlainReference(fill);
  auto b = Start(BrokerKind::kCourierOs);
  if (!b) return;
  ::usleep(300000);
  courier_idle_ = SampleProc(b->pid());
  const int64_t stored = FillCourier(*b, fill);
  stored_messages_ = stored;
  fill_rate_ = fill_s_ > 0 ? double(stored) / fill_s_ : 0;
  std::string error;
  if (!ScanStorePages(b->db_path(), &store_pages_, &stored_copies_, &error)) Log("   " + error);
  RestartFull(*b);
  b->Stop();
  du_bytes_ = DiskUsage(b->db_path());
  if (!ScanStore(b->db_path(), &store_scan_, &store_scan_error_)) Log("   " + store_scan_error_);
  RestartPlainReference();
}

void Suite::FillPlainReference(const LoadSpec& fill) {
  auto b = Start(BrokerKind::kPlain);
  if (!b) return;
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

int64_t Suite::FillCourier(Broker& b, const LoadSpec& fill) {
  int64_t stored = 0;
  for (int64_t point : heap_points_) {
    if (point > stored) {
      LoadSpec s = fill;
      s.mode = Mode::kCourier;
      s.max_messages = point - stored;
      s.run_tag = Fmt("f%lld", static_cast<long long>(point));
      Row* row = Run(b, "fill", s);
      if (!row->r.error.empty()) break;
      stored += static_cast<int64_t>(row->r.acked_window);
      fill_s_ += row->r.window_s;
    }
    ::usleep(500000);
    const ProcSample sample = SampleProc(b.pid());
    heap_.push_back(HeapPoint{stored, sample, FetchStats("127.0.0.1", b.port()).heap_in_use});
    Log(Fmt("   stored %lld messages: broker RSS %lld kB, RssAnon %lld kB, RssFile %lld kB, heap in use %.0f kB",
            static_cast<long long>(stored), static_cast<long long>(heap_.back().courier.rss_kb),
            static_cast<long long>(heap_.back().courier.rss_anon_kb),
            static_cast<long long>(heap_.back().courier.rss_file_kb), heap_.back().heap_in_use / 1024));
  }
  return stored;
}

// Restart with the store full: warm (page cache kept), then cold (the
// store's pages dropped from the page cache first).
void Suite::RestartFull(Broker& b) {
  for (bool cold : {false, true}) {
    RestartPoint p;
    p.what = cold ? "cold (data.mdb dropped from page cache)" : "warm (page cache kept)";
    std::string err;
    double to_port = 0;
    if (!b.Restart(&err, &to_port, cold)) {
      p.error = err;
    } else {
      p.to_port_s = to_port;
      double pull = PullProbe("127.0.0.1", b.port(), "u0", "probe", 100, 30, &p.entries, &p.head, &p.error);
      if (pull >= 0) {
        p.ok = true;
        p.to_pull_s = to_port + pull;
      }
    }
    Log(Fmt("   restart %s: port %.3f s, PULL answered %.3f s (%d entries, head %d) %s", p.what.c_str(), p.to_port_s,
            p.to_pull_s, p.entries, p.head, p.error.c_str()));
    restarts_.push_back(p);
  }
}

// Reference: how long plain Mosquitto takes to start on this machine.
void Suite::RestartPlainReference() {
  auto pb = Start(BrokerKind::kPlain);
  if (!pb) return;
  RestartPoint p;
  p.what = "plain Mosquitto, no store (reference)";
  std::string err;
  p.ok = pb->Restart(&err, &p.to_port_s, false);
  p.error = err;
  restarts_.push_back(p);
}

}  // namespace courier::bench
