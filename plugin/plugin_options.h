// The plugin's options: every `plugin_opt_<name> <value>` line of
// mosquitto.conf. Parsing is pure so it is tested without a broker.
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "edge_options.h"
#include "lmdb_options.h"
#include "pg_options.h"
#include "push_sender.h"
#include "core_options.h"

namespace courier::plugin {

// What Courier answers for ACL checks on topics outside its prefix.
enum class OtherTopics {
  kAuto,   // allow when the broker has no other access control, else defer
           // (decided at load from the broker's config: other_topics.h)
  kDefer,  // topics outside the prefix go to the broker's other security
  kAllow,  // topics outside the prefix are allowed (a broker with no ACL)
};

// Which storage engine holds the logs (docs/scale-out.md).
enum class StoreEngine {
  kLmdb,      // one broker, a directory on its disk (plugin_opt_db_path)
  kPostgres,  // several brokers ("edges") on one PostgreSQL (plugin_opt_pg_conninfo)
};

struct PluginOptions {
  core::CoreOptions core;
  StoreEngine engine = StoreEngine::kLmdb;
  storage::LmdbOptions store;
  storage::PgOptions pg;
  OtherTopics other_topics = OtherTopics::kAuto;
  // Entries older than this that every device of their user has received
  // are removed, with their dedup records. 0 keeps everything.
  uint64_t retention_s = 0;
  // Seconds between one-line stats summaries in the broker log; 0 = never.
  uint64_t stats_interval_s = 0;
  // Push notifications to the app's gateway (docs/push.md); off while
  // push.url is empty.
  push::PushOptions push;
  // Cross-edge delivery, with a store shared by several edges (docs/scale-out.md).
  EdgeOptions edge;

  bool operator==(const PluginOptions&) const = default;
};

// Every option's name (without plugin_opt_), sorted.
std::vector<std::string> OptionNames();

// Returns the options, or one line naming the bad option and why.
std::variant<PluginOptions, std::string> ParseOptions(const std::vector<std::pair<std::string, std::string>>& pairs);

}  // namespace courier::plugin
