#include "proc/mosquitto.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>
#include <utility>

#include "proc/loopback.h"
#include "proc/read_file.h"

namespace courier::proc {

using Clock = std::chrono::steady_clock;

Mosquitto::Mosquitto(MosquittoOptions options) : options_(std::move(options)), dir_(options_.dir_prefix) {
  dir_.set_keep(options_.keep_dir);
}

Mosquitto::~Mosquitto() {
  child_.Kill();
  // options() may have changed keep_dir since construction.
  dir_.set_keep(options_.keep_dir);
}

bool Mosquitto::WriteConfig() const {
  std::ofstream conf(config_path(), std::ios::trunc);
  for (const auto& line : config_.head) conf << line << "\n";
  conf << "listener " << port_ << " 127.0.0.1\n";
  conf << "allow_anonymous true\n";
  for (const auto& line : config_.settings) conf << line << "\n";
  if (::geteuid() == 0) conf << "user root\n";
  conf << "log_dest file " << dir() << "/mosquitto.log\n";
  for (const auto& line : config_.body) conf << line << "\n";
  return static_cast<bool>(conf.flush());
}

Launch Mosquitto::LaunchOnPort() {
  Launch launch;
  if (!WriteConfig()) {
    launch.error = "cannot write " + config_path();
    return launch;
  }
  SpawnOptions spawn;
  spawn.argv = {options_.binary, "-c", config_path()};
  spawn.output_file = dir() + "/" + options_.output_name;
  spawn.env = options_.env;
  const auto forked = Clock::now();
  if (!child_.Spawn(spawn, &launch.error)) return launch;

  const auto deadline = forked + options_.start_timeout;
  while (Clock::now() < deadline) {
    if (child_.Exited()) {
      launch.outcome = LaunchOutcome::kExited;
      launch.exit_status = child_.wait_status();
      return launch;
    }
    if (PortAccepts(port_)) {
      launch.outcome = LaunchOutcome::kAccepting;
      launch.to_port = Clock::now() - forked;
      return launch;
    }
    std::this_thread::sleep_for(options_.poll_interval);
  }
  if (options_.timeout_grace.count() == 0) {
    child_.Kill();
  } else {
    child_.Stop(options_.timeout_grace);
  }
  launch.outcome = LaunchOutcome::kTimedOut;
  return launch;
}

Launch Mosquitto::StartOnce() {
  port_ = PickFreePort();
  if (port_ == 0) {
    Launch none;
    none.error = "no free loopback port";
    return none;
  }
  return LaunchOnPort();
}

Launch Mosquitto::Start() {
  return LaunchOnFreePort(options_.start_attempts, &port_, [this] { return LaunchOnPort(); });
}

Launch Mosquitto::Restart(std::chrono::milliseconds pause) {
  return RelaunchOnPort(options_.start_attempts, pause, [this] { return LaunchOnPort(); });
}

std::string Mosquitto::ReadLog() const { return ReadWholeFile(dir() + "/mosquitto.log"); }

std::string Mosquitto::ReadOutput() const { return ReadWholeFile(dir() + "/" + options_.output_name); }

std::vector<std::string> BrokerPreloadEnv() {
  const char* p = std::getenv("COURIER_IT_BROKER_PRELOAD");
  if (p == nullptr || *p == '\0') return {};
  return {std::string("LD_PRELOAD=") + p};
}

std::string SanitizerReport(const std::string& log) {
  for (const char* marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"}) {
    size_t at = log.find(marker);
    if (at != std::string::npos) return log.substr(at > 200 ? at - 200 : 0, 6000);
  }
  return {};
}

}  // namespace courier::proc
