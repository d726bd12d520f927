// `cmake --install` into a temporary prefix, then a small program built
// against it with find_package(Courier) runs against a real broker.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "support/broker.h"
#include "support/child.h"

#ifndef COURIER_BINARY_DIR
#error "COURIER_BINARY_DIR, COURIER_SOURCE_DIR and COURIER_CMAKE must be defined by the build"
#endif

namespace courier::client_test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// The one file called `name` under `root`, or "".
std::string Find(const std::string& root, const std::string& name) {
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.path().filename() == name) return e.path();
  }
  return {};
}

TEST(Package, InstalledLibraryWorksThroughFindPackage) {
  TempDir dir;
  const std::string prefix = dir.path() + "/prefix";
  const RunResult install = RunProcess({COURIER_CMAKE, "--install", COURIER_BINARY_DIR, "--prefix", prefix}, "", 60s);
  ASSERT_EQ(install.exit_code, 0) << install.out << install.err;

  EXPECT_TRUE(fs::exists(prefix + "/include/courier/client.h"));
  EXPECT_TRUE(fs::exists(prefix + "/bin/courier"));
  const std::string plugin = Find(prefix, "mosquitto_courier.so");
  EXPECT_NE(plugin.find("/courier/mosquitto_courier.so"), std::string::npos) << plugin;
  EXPECT_FALSE(Find(prefix, "CourierConfig.cmake").empty());
  EXPECT_FALSE(Find(prefix, "libcourier_client.a").empty());
  std::ifstream snippet(prefix + "/share/courier/courier.conf");
  std::stringstream text;
  text << snippet.rdbuf();
  EXPECT_NE(text.str().find("\nplugin " + plugin + "\n"), std::string::npos) << text.str();

  const std::string build = dir.path() + "/build";
  std::vector<std::string> args = {COURIER_CMAKE,
                                   "-S",
                                   std::string(COURIER_SOURCE_DIR) + "/tests/client/package",
                                   "-B",
                                   build,
                                   "-DCMAKE_PREFIX_PATH=" + prefix,
                                   "-DCMAKE_BUILD_TYPE=Release"};
  if (const std::string flags = COURIER_PACKAGE_CXX_FLAGS; !flags.empty()) {
    args.push_back("-DCMAKE_CXX_FLAGS=" + flags);
    args.push_back("-DCMAKE_EXE_LINKER_FLAGS=" + flags);
  }
  const RunResult configure = RunProcess(args, "", 60s);
  ASSERT_EQ(configure.exit_code, 0) << configure.out << configure.err;
  const RunResult compile = RunProcess({COURIER_CMAKE, "--build", build, "-j2"}, "", 120s);
  ASSERT_EQ(compile.exit_code, 0) << compile.out << compile.err;

  it::Broker broker;
  ASSERT_TRUE(broker.Start());
  const RunResult hello = RunProcess({build + "/hello_courier", "127.0.0.1", std::to_string(broker.port())}, "", 20s);
  EXPECT_EQ(hello.exit_code, 0) << hello.err;
  EXPECT_EQ(hello.out, "version=0.1.0 ok=1 offset=1\nreceived \"hello from an installed Courier\"\n");
}

}  // namespace
}  // namespace courier::client_test
