#include "report_text.h"

#include <cstdarg>
#include <cstdio>

namespace courier::bench {

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
    case BrokerKind::kCourierPg: return "(d) Courier on PostgreSQL";
  }
  return "?";
}

std::string StallText(const LoadResult& r) {
  return Ms(r.stalls.stalled_ns) + " (" + Ms(r.stalls.worst_ns) + (r.disturbed() ? "), disturbed" : ")");
}

}  // namespace courier::bench
