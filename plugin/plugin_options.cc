#include "plugin_options.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>

namespace courier::plugin {
namespace {

constexpr uint32_t kMaxNameBytes = 254;
constexpr uint32_t kMaxNamePlusIdBytes = 510;

using Setter = std::function<std::string(PluginOptions&, const std::string&)>;

// Setter for an unsigned integer option within [min, max].
Setter Number(uint64_t min, uint64_t max, std::function<void(PluginOptions&, uint64_t)> set) {
  return [=](PluginOptions& o, const std::string& v) -> std::string {
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc() || end != v.data() + v.size() || n < min || n > max) {
      return "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max);
    }
    set(o, n);
    return "";
  };
}

// Setter for a boolean option: "true" or "false".
Setter Bool(std::function<void(PluginOptions&, bool)> set) {
  return [=](PluginOptions& o, const std::string& v) -> std::string {
    if (v != "true" && v != "false") return "must be 'true' or 'false'";
    set(o, v == "true");
    return "";
  };
}

std::string CheckPrefix(const std::string& p) {
  if (p.empty()) return "must not be empty";
  if (p.front() == '/' || p.back() == '/') return "must not start or end with '/'";
  if (p.front() == '$') return "must not start with '$'";
  if (p.find("//") != std::string::npos) return "must not have empty levels";
  if (p.find_first_of(std::string("+#\0", 3)) != std::string::npos) return "must not contain '+', '#' or NUL";
  return "";
}

const std::map<std::string, Setter>& Setters() {
  static const std::map<std::string, Setter> setters = {
      {"db_path",
       [](PluginOptions& o, const std::string& v) -> std::string {
         if (v.empty()) return "must not be empty";
         o.store.path = v;
         return "";
       }},
      {"store",
       [](PluginOptions& o, const std::string& v) -> std::string {
         if (v == "lmdb")
           o.engine = StoreEngine::kLmdb;
         else if (v == "postgres")
           o.engine = StoreEngine::kPostgres;
         else
           return "must be 'lmdb' or 'postgres'";
         return "";
       }},
      {"pg_conninfo",
       [](PluginOptions& o, const std::string& v) -> std::string {
         o.pg.conninfo = v;  // checked by libpq when the store opens
         return "";
       }},
      {"pg_connect_timeout_s",
       Number(1, 3600, [](PluginOptions& o, uint64_t n) { o.pg.connect_timeout_s = uint32_t(n); })},
      {"pg_reconnect_max_ms",
       Number(10, 3600000, [](PluginOptions& o, uint64_t n) { o.pg.reconnect_max_ms = uint32_t(n); })},
      {"topic_prefix",
       [](PluginOptions& o, const std::string& v) {
         std::string err = CheckPrefix(v);
         if (err.empty()) o.core.topic_prefix = v;
         return err;
       }},
      {"sync",
       [](PluginOptions& o, const std::string& v) -> std::string {
         if (v == "full")
           o.store.sync = storage::SyncMode::kFull;
         else if (v == "nometa")
           o.store.sync = storage::SyncMode::kNoMeta;
         else if (v == "os")
           o.store.sync = storage::SyncMode::kOs;
         else
           return "must be 'full', 'nometa' or 'os'";
         return "";
       }},
      {"admin_users",
       [](PluginOptions& o, const std::string& v) -> std::string {
         o.core.admin_users.clear();
         std::string name;
         for (char ch : v + ",") {
           if (ch == ',' || ch == ' ') {
             if (!name.empty()) o.core.admin_users.push_back(name);
             name.clear();
           } else {
             name.push_back(ch);
           }
         }
         return "";
       }},
      {"other_topics",
       [](PluginOptions& o, const std::string& v) -> std::string {
         if (v == "auto")
           o.other_topics = OtherTopics::kAuto;
         else if (v == "defer")
           o.other_topics = OtherTopics::kDefer;
         else if (v == "allow")
           o.other_topics = OtherTopics::kAllow;
         else
           return "must be 'auto', 'defer' or 'allow'";
         return "";
       }},
      {"map_size_mb", Number(1, 1 << 24, [](PluginOptions& o, uint64_t n) { o.store.map_size_mb = n; })},
      {"max_map_size_mb", Number(1, 1 << 24, [](PluginOptions& o, uint64_t n) { o.store.max_map_size_mb = n; })},
      {"max_payload_bytes",
       Number(1, 256u << 20, [](PluginOptions& o, uint64_t n) { o.core.max_payload_bytes = uint32_t(n); })},
      {"max_id_bytes",
       Number(1, kMaxNamePlusIdBytes - 1, [](PluginOptions& o, uint64_t n) { o.core.max_id_bytes = uint32_t(n); })},
      {"max_name_bytes",
       Number(1, kMaxNameBytes, [](PluginOptions& o, uint64_t n) { o.core.max_name_bytes = uint32_t(n); })},
      {"default_pull_limit",
       Number(1, 100000, [](PluginOptions& o, uint64_t n) { o.core.default_pull_limit = uint32_t(n); })},
      {"os_sync_interval_ms",
       Number(1, 3600000, [](PluginOptions& o, uint64_t n) { o.store.os_sync_interval_ms = uint32_t(n); })},
      {"max_clock_skew_s",
       Number(1, 10u * 365 * 86400, [](PluginOptions& o, uint64_t n) { o.core.max_clock_skew_s = uint32_t(n); })},
      {"rate_limit_per_s",
       Number(0, 1000000, [](PluginOptions& o, uint64_t n) { o.core.rate_limit_per_s = uint32_t(n); })},
      {"rate_limit_burst",
       Number(0, 10000000, [](PluginOptions& o, uint64_t n) { o.core.rate_limit_burst = uint32_t(n); })},
      {"max_undelivered",
       Number(0, 1000000000, [](PluginOptions& o, uint64_t n) { o.core.max_undelivered = uint32_t(n); })},
      {"default_expiry_s",
       Number(0, 10u * 365 * 86400, [](PluginOptions& o, uint64_t n) { o.core.default_expiry_s = uint32_t(n); })},
      {"max_expiry_s",
       Number(0, 10u * 365 * 86400, [](PluginOptions& o, uint64_t n) { o.core.max_expiry_s = uint32_t(n); })},
      {"delivery_qos", Number(0, 1, [](PluginOptions& o, uint64_t n) { o.core.delivery_qos = int(n); })},
      {"echo_to_sending_device", Bool([](PluginOptions& o, bool b) { o.core.echo_to_sending_device = b; })},
      {"edit_window_s",
       Number(0, 10u * 365 * 86400, [](PluginOptions& o, uint64_t n) { o.core.edit_window_s = uint32_t(n); })},
      {"recall_window_s",
       Number(0, 10u * 365 * 86400, [](PluginOptions& o, uint64_t n) { o.core.recall_window_s = uint32_t(n); })},
      {"max_group_members",
       Number(1, 100000, [](PluginOptions& o, uint64_t n) { o.core.max_group_members = uint32_t(n); })},
      {"retention_s", Number(0, 100u * 365 * 86400, [](PluginOptions& o, uint64_t n) { o.retention_s = n; })},
      {"stats_interval_s", Number(0, 86400, [](PluginOptions& o, uint64_t n) { o.stats_interval_s = n; })},
      {"push_url",
       [](PluginOptions& o,
          const std::string& v) -> std::
                                    string {
                                      if (!v.empty() && v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0) {
                                        return "must be empty (off) or start with http:// or https://";
                                      }
                                      o.push.url = v;
                                      return "";
                                    }},
      {"push_secret",
       [](PluginOptions& o, const std::string& v) -> std::
                                                      string {
                                                        o.push.secret = v;
                                                        return "";
                                                      }},
      {"push_payload", Bool([](PluginOptions& o, bool b) { o.push.payload = b; })},
      {"push_coalesce_ms", Number(0, 3600000, [](PluginOptions& o, uint64_t n) { o.push.coalesce_ms = uint32_t(n); })},
      {"push_max_age_s", Number(1, 30u * 86400, [](PluginOptions& o, uint64_t n) { o.push.max_age_s = uint32_t(n); })},
      {"push_timeout_ms", Number(100, 600000, [](PluginOptions& o, uint64_t n) { o.push.timeout_ms = uint32_t(n); })},
      {"edge_catchup_ms", Number(10, 3600000, [](PluginOptions& o, uint64_t n) { o.edge.catchup_ms = uint32_t(n); })},
      {"edge_hints", Bool([](PluginOptions& o, bool b) { o.edge.hints = b; })},
      {"max_pull_limit", Number(1, 100000, [](PluginOptions& o, uint64_t n) { o.core.max_pull_limit = uint32_t(n); })},
  };
  return setters;
}

}  // namespace

std::vector<std::string> OptionNames() {
  std::vector<std::string> names;
  for (const auto& [name, setter] : Setters()) names.push_back(name);
  return names;
}

std::variant<PluginOptions, std::string> ParseOptions(const std::vector<std::pair<std::string, std::string>>& pairs) {
  PluginOptions o;
  for (const auto& [key, value] : pairs) {
    auto it = Setters().find(key);
    if (it == Setters().end()) return "unknown option plugin_opt_" + key;
    std::string err = it->second(o, value);
    if (!err.empty()) return "plugin_opt_" + key + " '" + value + "' " + err;
  }
  if (o.engine == StoreEngine::kLmdb && o.store.path.empty()) return "plugin_opt_db_path is required";
  if (o.engine == StoreEngine::kPostgres && o.pg.conninfo.empty()) {
    return "plugin_opt_pg_conninfo is required with plugin_opt_store postgres";
  }
  o.pg.reconnect_min_ms = std::min(o.pg.reconnect_min_ms, o.pg.reconnect_max_ms);
  if (o.store.max_map_size_mb < o.store.map_size_mb) {
    return "plugin_opt_max_map_size_mb must be at least plugin_opt_map_size_mb";
  }
  // Store keys hold a pair of names (conversations, cursors) or a name and an
  // id (dedup); LMDB keys are at most 511 bytes.
  if (o.core.max_name_bytes > kMaxNameBytes) {
    return "plugin_opt_max_name_bytes must be at most " + std::to_string(kMaxNameBytes);
  }
  if (o.core.max_name_bytes + o.core.max_id_bytes > kMaxNamePlusIdBytes) {
    return "plugin_opt_max_name_bytes + plugin_opt_max_id_bytes must be at most " + std::to_string(kMaxNamePlusIdBytes);
  }
  o.core.push = !o.push.url.empty();
  o.core.push_payload = o.push.payload;
  if (o.core.default_pull_limit > o.core.max_pull_limit) {
    return "plugin_opt_default_pull_limit must not exceed plugin_opt_max_pull_limit";
  }
  return o;
}

}  // namespace courier::plugin
