// Courier's admin API ($CONTROL/courier/v1, JSON) from the bench: creating
// the groups of a group load, and reading the plugin's counters (commits,
// commit time) around a run. The broker must list the user in
// plugin_opt_admin_users (brokers the bench starts list "bench-admin").
#pragma once

#include <cstdint>
#include <string>

namespace courier::bench {

inline constexpr const char* kAdminUser = "bench-admin";

// Publishes `payload` to $CONTROL/courier/v1 as `user` and waits for the
// reply. False with *error when the broker does not answer in time.
bool AdminCall(const std::string& host, int port, const std::string& user, const std::string& payload,
               double timeout_s, std::string* reply, std::string* error);

// The number after "key": in a JSON text (first occurrence), or -1.
double JsonNumber(const std::string& json, const std::string& key);

struct CourierStats {
  bool ok = false;
  double accepted = 0, commits = 0, commit_us_total = 0, commit_us_max = 0, deliveries = 0;
  double heap_in_use = -1;  // bytes the broker process holds on its heap (mallinfo2); -1 unknown
};
CourierStats FetchStats(const std::string& host, int port);

}  // namespace courier::bench
