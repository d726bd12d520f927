#include "admin.h"

#include <chrono>
#include <cstdlib>

namespace courier::bench {

double JsonNumber(const std::string& json, const std::string& key) {
  const std::string k = "\"" + key + "\"";
  auto at = json.find(k);
  if (at == std::string::npos) return -1;
  at = json.find(':', at + k.size());
  if (at == std::string::npos) return -1;
  return std::strtod(json.c_str() + at + 1, nullptr);
}

CourierStats FetchStats(const std::string& host, int port) {
  CourierStats s;
  std::string reply, error;
  if (!proc::AdminCall(host, port, kAdminUser, R"({"commands":[{"command":"getStats"}]})", std::chrono::seconds(5),
                       &reply, &error)) {
    return s;
  }
  s.accepted = JsonNumber(reply, "accepted");
  s.commits = JsonNumber(reply, "commits");
  s.commit_us_total = JsonNumber(reply, "commitMicrosTotal");
  s.commit_us_max = JsonNumber(reply, "commitMicrosMax");
  s.deliveries = JsonNumber(reply, "deliveries");
  s.heap_in_use = JsonNumber(reply, "heapInUseBytes");
  s.ok = s.commits >= 0 && s.accepted >= 0;
  return s;
}

}  // namespace courier::bench
