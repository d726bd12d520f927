#include "plugin_options.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace courier::plugin {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// Parses `pairs` plus a db_path; fails the test when they are refused.
PluginOptions Good(Pairs pairs) {
  pairs.insert(pairs.begin(), {"db_path", "/var/lib/courier"});
  auto r = ParseOptions(pairs);
  if (auto* err = std::get_if<std::string>(&r)) {
    ADD_FAILURE() << "refused: " << *err;
    return {};
  }
  return std::get<PluginOptions>(r);
}

// Parses `pairs` plus a db_path; returns the error ("" when accepted).
std::string Bad(Pairs pairs) {
  pairs.insert(pairs.begin(), {"db_path", "/var/lib/courier"});
  auto r = ParseOptions(pairs);
  if (auto* err = std::get_if<std::string>(&r)) return *err;
  return "";
}

void ExpectRefused(const std::string& name, const std::string& value, Pairs extra = {}) {
  extra.emplace_back(name, value);
  std::string err = Bad(extra);
  EXPECT_FALSE(err.empty()) << name << "='" << value << "' was accepted";
  EXPECT_NE(err.find("plugin_opt_" + name), std::string::npos) << name << "='" << value << "': " << err;
}

TEST(PluginOptions, Defaults) {
  auto r = ParseOptions({{"db_path", "/data/courier"}});
  ASSERT_TRUE(std::holds_alternative<PluginOptions>(r)) << std::get<std::string>(r);
  const PluginOptions& o = std::get<PluginOptions>(r);
  EXPECT_EQ(o.store.path, "/data/courier");
  EXPECT_EQ(o.store.map_size_mb, 1024u);
  EXPECT_EQ(o.store.max_map_size_mb, 65536u);
  EXPECT_EQ(o.store.sync, storage::SyncMode::kFull);
  EXPECT_EQ(o.other_topics, OtherTopics::kAuto);
  EXPECT_EQ(o.core.topic_prefix, "msg");
  EXPECT_EQ(o.core.max_payload_bytes, 64u * 1024);
  EXPECT_EQ(o.core.max_id_bytes, 128u);
  EXPECT_EQ(o.core.max_name_bytes, 128u);
  EXPECT_EQ(o.core.default_pull_limit, 100u);
  EXPECT_EQ(o.core.max_pull_limit, 1000u);
  EXPECT_EQ(o.core.delivery_qos, 0);
  EXPECT_FALSE(o.core.echo_to_sending_device);
}

// mosquitto.conf.example shows each option commented out with its default;
// for other_topics (whose default changed) the shown value must be it.
TEST(PluginOptions, ExampleConfigShowsTheOtherTopicsDefault) {
  std::ifstream in(std::string(COURIER_SOURCE_DIR) + "/mosquitto.conf.example");
  ASSERT_TRUE(in) << "mosquitto.conf.example not found";
  const std::string key = "#plugin_opt_other_topics ";
  std::string line, shown;
  int lines = 0;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      shown = line.substr(key.size());
      ++lines;
    }
  }
  ASSERT_EQ(lines, 1);
  EXPECT_EQ(Good({{"other_topics", shown}}).other_topics, PluginOptions{}.other_topics) << shown;
  EXPECT_EQ(shown, "auto");
}

// mosquitto.conf.example documents every option once, and each line it
// shows commented out carries the option's default: parsing it alone gives
// the default options.
TEST(PluginOptions, ExampleConfigShowsEveryOptionWithItsDefault) {
  std::ifstream in(std::string(COURIER_SOURCE_DIR) + "/mosquitto.conf.example");
  ASSERT_TRUE(in) << "mosquitto.conf.example not found";
  std::map<std::string, int> seen;
  const PluginOptions defaults = Good({});
  for (std::string line; std::getline(in, line);) {
    const bool commented = line.rfind("#plugin_opt_", 0) == 0;
    if (!commented && line.rfind("plugin_opt_", 0) != 0) continue;
    const std::string rest = line.substr(line.find("plugin_opt_") + std::string("plugin_opt_").size());
    const auto space = rest.find(' ');
    const std::string name = rest.substr(0, space);
    const std::string value = space == std::string::npos ? "" : rest.substr(space + 1);
    ++seen[name];
    if (!commented) continue;  // db_path: required, no default
    EXPECT_TRUE(Good({{name, value}}) == defaults) << line << ": not the default";
  }
  for (const auto& name : OptionNames()) EXPECT_EQ(seen[name], 1) << "plugin_opt_" << name;
  EXPECT_EQ(seen.size(), OptionNames().size()) << "the example shows an option the plugin does not know";
}

TEST(PluginOptions, StoreEngine) {
  EXPECT_EQ(Good({}).engine, StoreEngine::kLmdb);
  EXPECT_EQ(Good({{"store", "lmdb"}}).engine, StoreEngine::kLmdb);
  for (const char* bad : {"", "pg", "LMDB", "postgresql"}) ExpectRefused("store", bad);

  // PostgreSQL needs a conninfo and no db_path.
  auto r = ParseOptions({{"store", "postgres"}, {"pg_conninfo", "host=db1,db2 dbname=courier"}});
  ASSERT_TRUE(std::holds_alternative<PluginOptions>(r)) << std::get<std::string>(r);
  const PluginOptions& o = std::get<PluginOptions>(r);
  EXPECT_EQ(o.engine, StoreEngine::kPostgres);
  EXPECT_EQ(o.pg.conninfo, "host=db1,db2 dbname=courier");
  EXPECT_EQ(o.pg.connect_timeout_s, 5u);
  EXPECT_EQ(o.pg.reconnect_max_ms, 5000u);

  auto missing = ParseOptions({{"store", "postgres"}});
  ASSERT_TRUE(std::holds_alternative<std::string>(missing));
  EXPECT_NE(std::get<std::string>(missing).find("plugin_opt_pg_conninfo is required"), std::string::npos);
  // LMDB still needs its directory.
  auto no_path = ParseOptions({{"store", "lmdb"}});
  ASSERT_TRUE(std::holds_alternative<std::string>(no_path));
  EXPECT_NE(std::get<std::string>(no_path).find("plugin_opt_db_path is required"), std::string::npos);

  // The first reconnect wait never exceeds the longest.
  EXPECT_EQ(Good({{"pg_reconnect_max_ms", "50"}}).pg.reconnect_min_ms, 50u);
  for (const char* bad : {"0", "9", "x"}) ExpectRefused("pg_reconnect_max_ms", bad);
  for (const char* bad : {"0", "3601"}) ExpectRefused("pg_connect_timeout_s", bad);
}

TEST(PluginOptions, DeliveryQos) {
  EXPECT_EQ(Good({{"delivery_qos", "0"}}).core.delivery_qos, 0);
  EXPECT_EQ(Good({{"delivery_qos", "1"}}).core.delivery_qos, 1);
  for (const char* bad : {"2", "-1", "", "one", "0.5"}) ExpectRefused("delivery_qos", bad);
}

TEST(PluginOptions, EchoToSendingDevice) {
  EXPECT_TRUE(Good({{"echo_to_sending_device", "true"}}).core.echo_to_sending_device);
  EXPECT_FALSE(Good({{"echo_to_sending_device", "false"}}).core.echo_to_sending_device);
  for (const char* bad : {"", "1", "yes", "TRUE", "false "}) ExpectRefused("echo_to_sending_device", bad);
}

TEST(PluginOptions, PushIsOffUntilAUrlIsSet) {
  const PluginOptions off = Good({});
  EXPECT_FALSE(off.core.push);
  EXPECT_EQ(off.push.coalesce_ms, 1000u);
  EXPECT_EQ(off.push.max_age_s, 86400u);
  EXPECT_EQ(off.push.timeout_ms, 5000u);
  const PluginOptions on = Good({{"push_url", "http://127.0.0.1:8787/push"},
                                 {"push_payload", "true"},
                                 {"push_secret", "s"},
                                 {"push_coalesce_ms", "0"}});
  EXPECT_TRUE(on.core.push);
  EXPECT_TRUE(on.core.push_payload);
  EXPECT_EQ(on.push.url, "http://127.0.0.1:8787/push");
  EXPECT_EQ(on.push.secret, "s");
  EXPECT_EQ(on.push.coalesce_ms, 0u);
  EXPECT_FALSE(Good({{"push_url", ""}}).core.push) << "empty: off";
  for (const char* bad : {"127.0.0.1:8787", "ftp://x"}) ExpectRefused("push_url", bad);
  for (const char* bad : {"0", "-1", "2592001"}) ExpectRefused("push_max_age_s", bad);
  ExpectRefused("push_timeout_ms", "99");
}

TEST(PluginOptions, EditWindows) {
  EXPECT_EQ(Good({}).core.edit_window_s, 900u);
  EXPECT_EQ(Good({}).core.recall_window_s, 172800u);
  EXPECT_EQ(Good({{"edit_window_s", "0"}}).core.edit_window_s, 0u);
  ExpectRefused("recall_window_s", "x");
}

TEST(PluginOptions, DbPathIsRequired) {
  auto r = ParseOptions({});
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_NE(std::get<std::string>(r).find("plugin_opt_db_path"), std::string::npos);
  r = ParseOptions({{"topic_prefix", "chat"}});
  ASSERT_TRUE(std::holds_alternative<std::string>(r));
  EXPECT_NE(std::get<std::string>(r).find("plugin_opt_db_path"), std::string::npos);
  ExpectRefused("db_path", "");
}

TEST(PluginOptions, UnknownOptionIsRefused) {
  std::string err = Bad({{"no_such_option", "1"}});
  EXPECT_NE(err.find("no_such_option"), std::string::npos) << err;
  err = Bad({{"DB_PATH", "/x"}});
  EXPECT_NE(err.find("DB_PATH"), std::string::npos) << err;
  err = Bad({{"", "x"}});
  EXPECT_FALSE(err.empty());
}

TEST(PluginOptions, DbPath) {
  EXPECT_EQ(Good({{"db_path", "/srv/courier db"}}).store.path, "/srv/courier db");  // the last one wins
}

TEST(PluginOptions, TopicPrefix) {
  EXPECT_EQ(Good({{"topic_prefix", "chat"}}).core.topic_prefix, "chat");
  EXPECT_EQ(Good({{"topic_prefix", "a/b"}}).core.topic_prefix, "a/b");
  EXPECT_EQ(Good({{"topic_prefix", "app/v1/msg"}}).core.topic_prefix, "app/v1/msg");
  for (const std::string& bad : {std::string(""), std::string("/msg"), std::string("msg/"), std::string("/"),
                                 std::string("a//b"), std::string("$SYS"), std::string("$msg"), std::string("msg/+"),
                                 std::string("+"), std::string("#"), std::string("a/#"), std::string("a\0b", 3)}) {
    ExpectRefused("topic_prefix", bad);
  }
}

TEST(PluginOptions, Sync) {
  EXPECT_EQ(Good({{"sync", "full"}}).store.sync, storage::SyncMode::kFull);
  EXPECT_EQ(Good({{"sync", "os"}}).store.sync, storage::SyncMode::kOs);
  EXPECT_EQ(Good({{"sync", "nometa"}}).store.sync, storage::SyncMode::kNoMeta);
  EXPECT_EQ(Good({{"os_sync_interval_ms", "250"}}).store.os_sync_interval_ms, 250u);
  ExpectRefused("os_sync_interval_ms", "0");
  for (const char* bad : {"", "FULL", "none", "fsync", "os "}) ExpectRefused("sync", bad);
}

TEST(PluginOptions, OtherTopics) {
  EXPECT_EQ(Good({{"other_topics", "auto"}}).other_topics, OtherTopics::kAuto);
  EXPECT_EQ(Good({{"other_topics", "defer"}}).other_topics, OtherTopics::kDefer);
  EXPECT_EQ(Good({{"other_topics", "allow"}}).other_topics, OtherTopics::kAllow);
  for (const char* bad : {"", "deny", "Allow", "Auto", "yes"}) ExpectRefused("other_topics", bad);
}

// Values no number option accepts.
const char* const kNotNumbers[] = {"", "x", "-1", "1x", " 5", "5 ", "+5", "1.5", "0x10", "99999999999999999999999"};

TEST(PluginOptions, MapSizes) {
  PluginOptions o = Good({{"map_size_mb", "1"}});
  EXPECT_EQ(o.store.map_size_mb, 1u);
  o = Good({{"map_size_mb", "2048"}, {"max_map_size_mb", "4096"}});
  EXPECT_EQ(o.store.map_size_mb, 2048u);
  EXPECT_EQ(o.store.max_map_size_mb, 4096u);
  o = Good({{"max_map_size_mb", "1048576"}});
  EXPECT_EQ(o.store.max_map_size_mb, 1048576u);
  o = Good({{"map_size_mb", "16"}, {"max_map_size_mb", "16"}});  // equal: no growth
  EXPECT_EQ(o.store.max_map_size_mb, 16u);
  for (const char* bad : kNotNumbers) {
    ExpectRefused("map_size_mb", bad);
    ExpectRefused("max_map_size_mb", bad);
  }
  ExpectRefused("map_size_mb", "0");
  ExpectRefused("max_map_size_mb", "0");
  ExpectRefused("map_size_mb", std::to_string((1u << 24) + 1), {{"max_map_size_mb", std::to_string(1u << 24)}});
  ExpectRefused("max_map_size_mb", std::to_string((1u << 24) + 1));
  // The maximum must not be below the initial size (default 1024).
  ExpectRefused("max_map_size_mb", "512");
  ExpectRefused("max_map_size_mb", "8", {{"map_size_mb", "16"}});
}

struct NumberCase {
  const char* name;
  uint64_t min, max;
  uint32_t core::CoreOptions::*field;
};

TEST(PluginOptions, CoreNumbers) {
  const NumberCase cases[] = {
      {"max_payload_bytes", 1, 256u << 20, &core::CoreOptions::max_payload_bytes},
      // Store keys are at most 511 bytes: names <= 254, name + id <= 510.
      {"max_id_bytes", 1, 382, &core::CoreOptions::max_id_bytes},
      {"max_name_bytes", 1, 254, &core::CoreOptions::max_name_bytes},
      {"default_pull_limit", 1, 1000, &core::CoreOptions::default_pull_limit},  // max: max_pull_limit
      {"max_pull_limit", 100, 100000, &core::CoreOptions::max_pull_limit},      // min: default_pull_limit
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(Good({{c.name, std::to_string(c.min)}}).core.*c.field, c.min);
    EXPECT_EQ(Good({{c.name, std::to_string(c.max)}}).core.*c.field, c.max);
    EXPECT_EQ(Good({{c.name, "100"}}).core.*c.field, 100u);
    for (const char* bad : kNotNumbers) ExpectRefused(c.name, bad);
    ExpectRefused(c.name, "0");
  }
  ExpectRefused("max_payload_bytes", std::to_string((256u << 20) + 1));
  ExpectRefused("max_id_bytes", "383");
  ExpectRefused("max_name_bytes", "255");
  ExpectRefused("max_id_bytes", "300", {{"max_name_bytes", "250"}});
  EXPECT_EQ(Good({{"max_id_bytes", "410"}, {"max_name_bytes", "100"}}).core.max_id_bytes, 410u);
  ExpectRefused("default_pull_limit", "100001", {{"max_pull_limit", "100000"}});
  ExpectRefused("max_pull_limit", "100001");
  // The default pull must not exceed the maximum.
  ExpectRefused("default_pull_limit", "1001");
  ExpectRefused("max_pull_limit", "99");
  PluginOptions o = Good({{"default_pull_limit", "5000"}, {"max_pull_limit", "10000"}});
  EXPECT_EQ(o.core.default_pull_limit, 5000u);
  EXPECT_EQ(o.core.max_pull_limit, 10000u);
}

TEST(PluginOptions, EveryOptionTogether) {
  PluginOptions o = Good({{"topic_prefix", "chat/v1"},
                          {"sync", "os"},
                          {"other_topics", "allow"},
                          {"map_size_mb", "64"},
                          {"max_map_size_mb", "128"},
                          {"max_payload_bytes", "1000"},
                          {"max_id_bytes", "64"},
                          {"max_name_bytes", "32"},
                          {"default_pull_limit", "10"},
                          {"max_pull_limit", "20"}});
  EXPECT_EQ(o.store.path, "/var/lib/courier");
  EXPECT_EQ(o.core.topic_prefix, "chat/v1");
  EXPECT_EQ(o.store.sync, storage::SyncMode::kOs);
  EXPECT_EQ(o.other_topics, OtherTopics::kAllow);
  EXPECT_EQ(o.store.map_size_mb, 64u);
  EXPECT_EQ(o.store.max_map_size_mb, 128u);
  EXPECT_EQ(o.core.max_payload_bytes, 1000u);
  EXPECT_EQ(o.core.max_id_bytes, 64u);
  EXPECT_EQ(o.core.max_name_bytes, 32u);
  EXPECT_EQ(o.core.default_pull_limit, 10u);
  EXPECT_EQ(o.core.max_pull_limit, 20u);
}

TEST(PluginOptions, ErrorQuotesTheValue) {
  std::string err = Bad({{"sync", "sometimes"}});
  EXPECT_NE(err.find("plugin_opt_sync"), std::string::npos) << err;
  EXPECT_NE(err.find("sometimes"), std::string::npos) << err;
}

}  // namespace
}  // namespace courier::plugin
