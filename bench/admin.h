// The bench's use of Courier's admin API: the plugin's counters (commits,
// commit time, heap) read around a run. The calls themselves go through
// proc::AdminCall (tests/proc/admin_client.h), shared with the tests. The
// broker must list the user in plugin_opt_admin_users (brokers the bench
// starts list "bench-admin"). One thread at a time per call; nothing throws.
#pragma once

#include <string>

#include "proc/admin_client.h"

namespace courier::bench {

inline constexpr const char* kAdminUser = "bench-admin";

// The number after "key": in a JSON text (first occurrence), or -1.
double JsonNumber(const std::string& json, const std::string& key);

struct CourierStats {
  bool ok = false;
  double accepted = 0, commits = 0, commit_us_total = 0, commit_us_max = 0, deliveries = 0;
  double heap_in_use = -1;  // bytes the broker process holds on its heap (mallinfo2); -1 unknown
};
// getStats as kAdminUser; ok false when the broker did not answer in 5 s.
CourierStats FetchStats(const std::string& host, int port);

}  // namespace courier::bench
