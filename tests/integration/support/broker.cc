#include "support/broker.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "proc/loopback.h"
#include "proc/read_file.h"

#ifndef MOSQUITTO_BIN
#error "MOSQUITTO_BIN must be defined by the build"
#endif
#ifndef COURIER_PLUGIN_PATH
#define COURIER_PLUGIN_PATH ""
#endif

namespace courier::it {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kStartTimeout = std::chrono::seconds(10);
constexpr auto kStopTimeout = std::chrono::seconds(5);
constexpr int kStartAttempts = 5;

// Under an ASan build (scripts/test.sh, docs/security.md) the plugin needs
// the ASan runtime loaded first into the uninstrumented mosquitto:
// COURIER_IT_BROKER_PRELOAD names it, and becomes the broker's LD_PRELOAD.
const char* BrokerPreload() {
  const char* p = std::getenv("COURIER_IT_BROKER_PRELOAD");
  return p != nullptr && *p != '\0' ? p : nullptr;
}

// The first sanitizer report (ASan, LSan, UBSan) in a broker log; empty if none.
std::string SanitizerReport(const std::string& log) {
  for (const char* marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"}) {
    size_t at = log.find(marker);
    if (at != std::string::npos) return log.substr(at > 200 ? at - 200 : 0, 6000);
  }
  return {};
}

}  // namespace

Broker::Broker(BrokerOptions options) : options_(std::move(options)) {
  char tmpl[] = "/tmp/courier-it-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed: " << std::strerror(errno);
    return;
  }
  dir_ = tmpl;
  if (options_.db_path.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(db_path(), ec);
    if (ec) ADD_FAILURE() << "cannot create " << db_path() << ": " << ec.message();
  }
}

Broker::~Broker() {
  // With the ASan runtime preloaded, a graceful stop lets LeakSanitizer
  // check the plugin when mosquitto exits; any report fails the test.
  if (BrokerPreload() != nullptr) Stop();
  Kill9();
  if (!dir_.empty()) {
    std::string report = SanitizerReport(log());
    if (!report.empty()) ADD_FAILURE() << "sanitizer report in the broker's output:\n" << report;
  }
  if (dir_.empty()) return;
  const char* keep = std::getenv("COURIER_IT_KEEP");
  if (keep != nullptr && std::string(keep) == "1") {
    std::fprintf(stderr, "[courier-it] kept broker directory %s\n", dir_.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void Broker::WriteConfig() const {
  std::ofstream conf(dir_ + "/mosquitto.conf", std::ios::trunc);
  for (const auto& line : options_.pre_config) conf << line << "\n";
  conf << "listener " << port_ << " 127.0.0.1\n";
  conf << "allow_anonymous true\n";
  conf << "persistence false\n";
  if (::geteuid() == 0) conf << "user root\n";
  conf << "log_dest file " << dir_ << "/mosquitto.log\n";
  conf << "log_type all\n";
  conf << "log_timestamp_format %H:%M:%S\n";
  for (const auto& line : options_.extra_config) conf << line << "\n";
  if (options_.with_plugin) {
    conf << "plugin " << COURIER_PLUGIN_PATH << "\n";
    conf << "plugin_opt_db_path " << db_path() << "\n";
    for (const auto& [key, value] : options_.plugin_opts) {
      conf << "plugin_opt_" << key << " " << value << "\n";
    }
  }
  for (const auto& line : options_.post_config) conf << line << "\n";
}

::testing::AssertionResult Broker::Start() {
  if (dir_.empty()) return ::testing::AssertionFailure() << "no data directory";
  if (running()) return ::testing::AssertionFailure() << "broker already running";
  if (options_.with_plugin && std::string(COURIER_PLUGIN_PATH).empty()) {
    return ::testing::AssertionFailure()
           << "the courier_plugin target does not exist in this build; cannot load the plugin";
  }
  ::testing::AssertionResult last = ::testing::AssertionFailure() << "not started";
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    port_ = proc::PickFreePort();
    if (port_ == 0) continue;
    last = Launch();
    if (last) return last;
  }
  return last;
}

::testing::AssertionResult Broker::Restart() {
  if (running()) Stop();
  // Same port: the listener uses SO_REUSEADDR, but a TIME_WAIT or a racing
  // process could still get in the way, so give it a few attempts.
  ::testing::AssertionResult last = ::testing::AssertionFailure() << "not restarted";
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    last = Launch();
    if (last) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return last;
}

::testing::AssertionResult Broker::StartExpectingExit(int* wait_status) {
  if (dir_.empty()) return ::testing::AssertionFailure() << "no data directory";
  if (running()) return ::testing::AssertionFailure() << "broker already running";
  port_ = proc::PickFreePort();
  if (port_ == 0) return ::testing::AssertionFailure() << "no free port";
  auto started = Launch();
  if (started) {
    Kill9();
    return ::testing::AssertionFailure()
           << "mosquitto started and accepted connections on port " << port_
           << " (expected it to refuse to start)\n----- broker log -----\n"
           << log();
  }
  if (last_exit_status_ < 0) return started;  // did not exit on its own: killed after 10 s
  *wait_status = last_exit_status_;
  return ::testing::AssertionSuccess();
}

bool Broker::Alive() {
  if (!child_.running()) return false;
  if (!child_.Exited()) return true;
  last_exit_status_ = child_.wait_status();
  return false;
}

::testing::AssertionResult Broker::Launch() {
  last_exit_status_ = -1;
  WriteConfig();
  proc::SpawnOptions spawn;
  spawn.argv = {MOSQUITTO_BIN, "-c", dir_ + "/mosquitto.conf"};
  spawn.output_file = dir_ + "/stdout.log";
  if (BrokerPreload() != nullptr) spawn.env = {std::string("LD_PRELOAD=") + BrokerPreload()};
  std::string error;
  if (!child_.Spawn(spawn, &error)) return ::testing::AssertionFailure() << error;

  const auto deadline = Clock::now() + kStartTimeout;
  while (Clock::now() < deadline) {
    if (child_.Exited()) {
      last_exit_status_ = child_.wait_status();
      return ::testing::AssertionFailure()
             << "mosquitto exited during start (status " << last_exit_status_ << ") on port " << port_
             << "\n----- broker log -----\n"
             << log();
    }
    if (proc::PortAccepts(port_)) return ::testing::AssertionSuccess();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Kill9();
  return ::testing::AssertionFailure() << "mosquitto did not accept connections on port " << port_
                                       << " within 10 s\n----- broker log -----\n"
                                       << log();
}

void Broker::Kill9() { child_.Kill(); }

void Broker::Stop() { child_.Stop(kStopTimeout); }

std::string Broker::log() const {
  std::string text = proc::ReadWholeFile(dir_ + "/mosquitto.log");
  std::string out = proc::ReadWholeFile(dir_ + "/stdout.log");
  if (!out.empty()) text += "\n----- broker stdout/stderr -----\n" + out;
  return text;
}

}  // namespace courier::it
