#include "support/broker.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#ifndef MOSQUITTO_BIN
#error "MOSQUITTO_BIN must be defined by the build"
#endif
#ifndef COURIER_PLUGIN_PATH
#define COURIER_PLUGIN_PATH ""
#endif

extern char** environ;

namespace courier::it {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kStartTimeout = std::chrono::seconds(10);
constexpr int kStopTimeoutMs = 5000;
constexpr int kStartAttempts = 5;

// Binds 127.0.0.1:0, reads the port the kernel chose, closes the socket.
int PickFreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
  }
  ::close(fd);
  return port;
}

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

bool PortAccepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
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
    port_ = PickFreePort();
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
  port_ = PickFreePort();
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
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    last_exit_status_ = status;
    pid_ = -1;
    return false;
  }
  return r == 0;
}

::testing::AssertionResult Broker::Launch() {
  last_exit_status_ = -1;
  WriteConfig();
  const std::string bin = MOSQUITTO_BIN;
  const std::string conf = dir_ + "/mosquitto.conf";
  const std::string out = dir_ + "/stdout.log";
  // Everything the child needs is prepared before fork: after fork only
  // async-signal-safe calls are made (the test process has other threads).
  std::vector<char*> argv = {const_cast<char*>(bin.c_str()), const_cast<char*>("-c"),
                             const_cast<char*>(conf.c_str()), nullptr};
  std::vector<char*> envp;
  std::string preload_var;
  for (char** e = environ; *e != nullptr; ++e) {
    if (BrokerPreload() == nullptr || std::strncmp(*e, "LD_PRELOAD=", 11) != 0) envp.push_back(*e);
  }
  if (BrokerPreload() != nullptr) {
    preload_var = std::string("LD_PRELOAD=") + BrokerPreload();
    envp.push_back(preload_var.data());
  }
  envp.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    return ::testing::AssertionFailure() << "fork failed: " << std::strerror(errno);
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
    ::execve(bin.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  pid_ = pid;

  const auto deadline = Clock::now() + kStartTimeout;
  while (Clock::now() < deadline) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      last_exit_status_ = status;
      return ::testing::AssertionFailure()
             << "mosquitto exited during start (status " << status << ") on port " << port_
             << "\n----- broker log -----\n"
             << log();
    }
    if (PortAccepts(port_)) return ::testing::AssertionSuccess();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Kill9();
  return ::testing::AssertionFailure() << "mosquitto did not accept connections on port " << port_
                                       << " within 10 s\n----- broker log -----\n"
                                       << log();
}

void Broker::Reap(int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno == ECHILD)) {
      pid_ = -1;
      return;
    }
    if (timeout_ms >= 0 && Clock::now() >= deadline) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void Broker::Kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  Reap(-1);
}

void Broker::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  Reap(kStopTimeoutMs);
  if (pid_ > 0) Kill9();
}

std::string Broker::log() const {
  std::string text = ReadFile(dir_ + "/mosquitto.log");
  std::string out = ReadFile(dir_ + "/stdout.log");
  if (!out.empty()) text += "\n----- broker stdout/stderr -----\n" + out;
  return text;
}

}  // namespace courier::it
