// ScanBrokerConfig over an in-memory file system: what counts as other
// access control, include_dir, per-listener sections, finding Courier's own
// line, and failures.
#include "broker_config.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace courier::plugin {
namespace {

constexpr const char* kCourier = "/usr/lib/courier/mosquitto_courier.so";
constexpr const char* kDynsec = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so";

struct FakeFs {
  std::map<std::string, std::string> files;
  std::map<std::string, std::vector<std::string>> dirs;

  ConfigFiles Files() const {
    return ConfigFiles{[this](const std::string& p) -> std::optional<std::string> {
                         auto it = files.find(p);
                         if (it == files.end()) return std::nullopt;
                         return it->second;
                       },
                       [this](const std::string& d) -> std::optional<std::vector<std::string>> {
                         auto it = dirs.find(d);
                         if (it == dirs.end()) return std::nullopt;
                         return it->second;
                       },
                       [](const std::string& p) { return p == kCourier; }};
  }
};

std::string CourierLines(const std::string& db = "/var/lib/courier") {
  return std::string("plugin ") + kCourier + "\nplugin_opt_db_path " + db + "\n";
}

BrokerAccessControl Scan(const FakeFs& fs, const std::string& db = "/var/lib/courier") {
  auto r = ScanBrokerConfig("/etc/m.conf", OwnOption{"plugin_opt_db_path", db}, fs.Files());
  if (auto* err = std::get_if<std::string>(&r)) {
    ADD_FAILURE() << *err;
    return {};
  }
  return std::get<BrokerAccessControl>(r);
}

TEST(BrokerConfig, ConfigPathIsTheLastDashC) {
  EXPECT_EQ(ConfigPathFromArgs({"mosquitto", "-c", "/etc/a.conf"}), "/etc/a.conf");
  EXPECT_EQ(ConfigPathFromArgs({"mosquitto", "-v", "--config-file", "b.conf", "-d"}), "b.conf");
  EXPECT_EQ(ConfigPathFromArgs({"mosquitto", "-c", "a", "-c", "b"}), "b");
  EXPECT_EQ(ConfigPathFromArgs({"mosquitto", "-p", "1883"}), "");
  EXPECT_EQ(ConfigPathFromArgs({"mosquitto", "-c"}), "");
}

TEST(BrokerConfig, CourierAloneHasNoOtherAccessControl) {
  FakeFs fs;
  fs.files["/etc/m.conf"] = "listener 1883\nallow_anonymous true\npassword_file /etc/pw\n" + CourierLines();
  auto ac = Scan(fs);
  EXPECT_FALSE(ac.HasOtherAccessControl());
  EXPECT_FALSE(ac.per_listener_settings);
}

TEST(BrokerConfig, AclFileAndOtherPluginsCount) {
  FakeFs fs;
  fs.files["/etc/m.conf"] = std::string("plugin ") + kDynsec + "\nplugin_opt_config_file /d.json\n" + CourierLines() +
                            "acl_file /etc/acl\n#acl_file /commented\n  auth_plugin /x/old.so\n";
  auto ac = Scan(fs);
  EXPECT_EQ(ac.acl_files, std::vector<std::string>{"/etc/acl"});
  EXPECT_EQ(ac.other_plugins, (std::vector<std::string>{kDynsec, "/x/old.so"}));
  EXPECT_EQ(ac.plugins_before_courier, std::vector<std::string>{kDynsec});
}

TEST(BrokerConfig, IncludeDirFromTheMainFileOnlyInMosquittosOrder) {
  FakeFs fs;
  fs.files["/etc/m.conf"] = CourierLines() + "include_dir /etc/conf.d\n";
  fs.dirs["/etc/conf.d"] = {"b.conf", "A.conf", "notes.txt", ".conf", "c.conf"};
  fs.files["/etc/conf.d/A.conf"] = std::string("plugin ") + "/p/first.so\n";
  fs.files["/etc/conf.d/b.conf"] = "acl_file /etc/b.acl\ninclude_dir /etc/nested\n";
  fs.files["/etc/conf.d/c.conf"] = "plugin /p/second.so\n";
  fs.files["/etc/conf.d/notes.txt"] = "acl_file /not/read\n";
  fs.dirs["/etc/nested"] = {"n.conf"};
  fs.files["/etc/nested/n.conf"] = "acl_file /not/read/either\n";
  auto ac = Scan(fs);
  EXPECT_EQ(ac.acl_files, std::vector<std::string>{"/etc/b.acl"});
  EXPECT_EQ(ac.other_plugins, (std::vector<std::string>{"/p/first.so", "/p/second.so"}));
  EXPECT_TRUE(ac.plugins_before_courier.empty());
}

TEST(BrokerConfig, PerListenerSettingsOnlyCourierListenerCounts) {
  FakeFs fs;
  fs.files["/etc/m.conf"] =
      "per_listener_settings true\n"
      "listener 1883\nacl_file /etc/one.acl\nplugin /p/one.so\n"
      "listener 1884\n" +
      CourierLines("/db/two") + "listener 1885\n" + CourierLines("/db/three") + "acl_file /etc/three.acl\n";
  auto two = Scan(fs, "/db/two");
  EXPECT_TRUE(two.per_listener_settings);
  EXPECT_FALSE(two.HasOtherAccessControl());
  auto three = Scan(fs, "/db/three");
  EXPECT_EQ(three.acl_files, std::vector<std::string>{"/etc/three.acl"});
  EXPECT_TRUE(three.other_plugins.empty());
}

TEST(BrokerConfig, WithoutPerListenerSettingsEverySectionCounts) {
  FakeFs fs;
  fs.files["/etc/m.conf"] = "listener 1883\nacl_file /etc/one.acl\nlistener 1884\n" + CourierLines();
  EXPECT_EQ(Scan(fs).acl_files, std::vector<std::string>{"/etc/one.acl"});
}

// With PostgreSQL, the conninfo tells Courier's plugin line from another
// one loading Courier, and a failure never shows it (it may hold a password).
TEST(BrokerConfig, APostgresInstanceIsFoundByItsConninfo) {
  FakeFs fs;
  const std::string mine = "host=db1,db2 dbname=courier password=hunter2";
  fs.files["/etc/m.conf"] = "per_listener_settings true\nlistener 1883\nacl_file /etc/a.acl\nplugin " +
                            std::string(kCourier) + "\nplugin_opt_store postgres\nplugin_opt_pg_conninfo " + mine +
                            "\nlistener 1884\nplugin " + kCourier + "\nplugin_opt_pg_conninfo host=other\n";
  auto r = ScanBrokerConfig("/etc/m.conf", OwnOption{"plugin_opt_pg_conninfo", mine, true}, fs.Files());
  ASSERT_TRUE(std::holds_alternative<BrokerAccessControl>(r)) << std::get<std::string>(r);
  EXPECT_EQ(std::get<BrokerAccessControl>(r).acl_files, std::vector<std::string>{"/etc/a.acl"});

  auto missing =
      ScanBrokerConfig("/etc/m.conf", OwnOption{"plugin_opt_pg_conninfo", "host=x password=s3", true}, fs.Files());
  ASSERT_TRUE(std::holds_alternative<std::string>(missing));
  EXPECT_NE(std::get<std::string>(missing).find("this plugin_opt_pg_conninfo"), std::string::npos);
  EXPECT_EQ(std::get<std::string>(missing).find("s3"), std::string::npos);
}

TEST(BrokerConfig, FailuresAreOneLine) {
  FakeFs fs;
  auto missing = ScanBrokerConfig("/etc/none.conf", OwnOption{"plugin_opt_db_path", "/var/lib/courier"}, fs.Files());
  ASSERT_TRUE(std::holds_alternative<std::string>(missing));
  EXPECT_NE(std::get<std::string>(missing).find("/etc/none.conf"), std::string::npos);

  auto no_c = ScanBrokerConfig("", OwnOption{"plugin_opt_db_path", "/var/lib/courier"}, fs.Files());
  ASSERT_TRUE(std::holds_alternative<std::string>(no_c));

  // The file is readable but has no Courier line with our db_path (e.g. it
  // changed since the broker read it, or it was a pipe).
  fs.files["/etc/m.conf"] = CourierLines("/other/db");
  auto not_ours = ScanBrokerConfig("/etc/m.conf", OwnOption{"plugin_opt_db_path", "/var/lib/courier"}, fs.Files());
  ASSERT_TRUE(std::holds_alternative<std::string>(not_ours));
  EXPECT_NE(std::get<std::string>(not_ours).find("plugin_opt_db_path /var/lib/courier"), std::string::npos);

  fs.files["/etc/m.conf"] = CourierLines() + "include_dir /etc/gone\n";
  auto bad_dir = ScanBrokerConfig("/etc/m.conf", OwnOption{"plugin_opt_db_path", "/var/lib/courier"}, fs.Files());
  ASSERT_TRUE(std::holds_alternative<std::string>(bad_dir));
  EXPECT_NE(std::get<std::string>(bad_dir).find("/etc/gone"), std::string::npos);
}

}  // namespace
}  // namespace courier::plugin
