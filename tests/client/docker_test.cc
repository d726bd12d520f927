// docker/entrypoint.sh with docker/mosquitto.conf, run outside a container
// the way the image runs them (paths overridden by environment variables),
// on a free port; a message must go through.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "courier/client.h"
#include "proc/loopback.h"
#include "support/child.h"

#ifndef COURIER_SOURCE_DIR
#error "COURIER_SOURCE_DIR, COURIER_PLUGIN_PATH and MOSQUITTO_BIN must be defined by the build"
#endif

namespace courier::client_test {
namespace {

using namespace std::chrono_literals;

const std::string kEntrypoint = std::string(COURIER_SOURCE_DIR) + "/docker/entrypoint.sh";

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(DockerEntrypoint, StartsTheImageConfigurationAndAMessageGoesThrough) {
  TempDir dir;
  const std::string data = dir.path() + "/volume";
  const std::string run = dir.path() + "/run";
  const int port = proc::PickFreePort();
  std::vector<std::string> env = {
      "COURIER_CONFIG=" + std::string(COURIER_SOURCE_DIR) + "/docker/mosquitto.conf",
      "COURIER_DATA_DIR=" + data,
      "COURIER_RUN_DIR=" + run,
      "COURIER_PLUGIN=" + std::string(COURIER_PLUGIN_PATH),
      "COURIER_PORT=" + std::to_string(port),
      "COURIER_BIND=127.0.0.1",
      "MOSQUITTO=" + std::string(MOSQUITTO_BIN),
  };
  // As root the entrypoint hands the volume to the broker's user; here the
  // temporary directory is root's, so stay root.
  if (::geteuid() == 0) env.push_back("COURIER_MOSQUITTO_USER=root");
  // Under ASan (scripts/test.sh) the instrumented plugin needs the ASan
  // runtime preloaded into the uninstrumented mosquitto, as the harness does.
  if (const char* preload = std::getenv("COURIER_IT_BROKER_PRELOAD"); preload && *preload) {
    env.push_back(std::string("LD_PRELOAD=") + preload);
  }
  auto broker = Child::Spawn({"/bin/sh", kEntrypoint}, env);
  ASSERT_TRUE(broker);
  ASSERT_TRUE(proc::WaitForPort(port, 10s)) << "exit " << broker->Wait(1s) << "\n" << broker->err();

  const std::string conf = ReadText(run + "/courier-mosquitto.conf");
  EXPECT_NE(conf.find("listener " + std::to_string(port) + " 127.0.0.1\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("plugin " + std::string(COURIER_PLUGIN_PATH) + "\n"), std::string::npos);
  EXPECT_NE(conf.find("plugin_opt_db_path " + data + "/db\n"), std::string::npos);
  EXPECT_NE(conf.find("per_listener_settings false\n"), std::string::npos);

  // alice -> bob through the broker the entrypoint started.
  auto opts = [&](const std::string& user) {
    client::Options o;
    o.host = "127.0.0.1";
    o.port = port;
    o.user = user;
    o.device = user + "-phone";
    o.reconnect = {50ms, 500ms};
    return o;
  };
  std::promise<client::Message> got;
  std::promise<void> synced;
  client::Client bob(opts("bob"), {.on_message = [&](const client::Message& m) { got.set_value(m); },
                                   .on_synced = [&](int32_t) { synced.set_value(); }});
  bob.start();
  ASSERT_EQ(synced.get_future().wait_for(10s), std::future_status::ready);
  client::Client alice(opts("alice"));
  alice.start();
  auto sent = alice.send("bob", "through the image's entrypoint");
  ASSERT_EQ(sent.wait_for(10s), std::future_status::ready);
  const auto r = sent.get();
  ASSERT_TRUE(r.ok) << r.error_code << ": " << r.error_detail << "\n" << broker->err();
  auto f = got.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(f.get().payload, "through the image's entrypoint");
  alice.close();
  bob.close();

  EXPECT_TRUE(std::filesystem::exists(data + "/db/data.mdb")) << "the store is on the volume";

  // The entrypoint exec'd mosquitto: the same pid takes SIGTERM and exits cleanly.
  broker->Signal(SIGTERM);
  EXPECT_EQ(broker->Wait(), 0) << broker->err();
}

TEST(DockerEntrypoint, RunsAGivenCommandInstead) {
  const RunResult r = RunProcess({"/bin/sh", kEntrypoint, "/bin/echo", "courier", "inspect"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "courier inspect\n");
}

TEST(DockerEntrypoint, RefusesAMissingConfiguration) {
  TempDir dir;
  const RunResult r =
      RunProcess({"/bin/sh", kEntrypoint}, "", 10s,
                 {"COURIER_CONFIG=" + dir.path() + "/none.conf", "COURIER_DATA_DIR=" + dir.path() + "/data"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot read"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace courier::client_test
