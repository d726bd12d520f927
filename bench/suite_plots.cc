// The plot data files (saturation.dat, latency.dat, heap.dat) and the
// gnuplot script that renders them (plots.gp; scripts/bench.sh runs it).
#include <fstream>
#include <iterator>
#include <set>

#include "report_text.h"
#include "suite_impl.h"

namespace courier::bench {

void Suite::Plots() {
  WriteSaturationDat();
  WriteLatencyDat();
  WriteHeapDat();
  WritePlotScript();
}

void Suite::WriteSaturationDat() {
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

void Suite::WriteLatencyDat() {
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
      d << r.spec.rate << " " << r.r.delivered_per_s() << " " << Ms(h.Percentile(0.5)) << " " << Ms(h.Percentile(0.9))
        << " " << Ms(h.Percentile(0.99)) << " " << Ms(h.Percentile(0.999)) << " " << Ms(h.max()) << " "
        << Ms(r.r.ack.Percentile(0.5)) << " " << Ms(r.r.ack.Percentile(0.99)) << "\n";
    }
    d << "\n\n";
  }
}

void Suite::WriteHeapDat() {
  std::ofstream d(out + "/heap.dat");
  d << "# stored_messages plugin_heap_mb(RssAnon - plain RssAnon) rss_mb rss_file_mb heap_in_use_mb\n";
  for (const auto& h : heap_) {
    d << h.messages << " " << Mb(PluginHeapKb(h)) << " " << Mb(h.courier.rss_kb) << " " << Mb(h.courier.rss_file_kb)
      << " " << (h.heap_in_use >= 0 ? Fmt("%.1f", h.heap_in_use / 1048576.0) : std::string("NaN")) << "\n";
  }
}

void Suite::WritePlotScript() {
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
        g << (i ? ", \\\n     " : "") << "\"latency.dat\" index " << i << " using 1:" << p[0] << " with linespoints lt "
          << i + 1 << " title \"" << KindName(kAllKinds[i]) << "\"";
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

}  // namespace courier::bench
