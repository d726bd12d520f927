// Broker: one real mosquitto process for one test.
//
// Ownership: a Broker owns its child process (by pid) and its temporary
// directory (mkdtemp under /tmp). The destructor always ends the process with
// SIGKILL by pid, reaps it, and removes the directory (set COURIER_IT_KEEP=1
// in the environment to keep the directory for post-mortem inspection).
// Threads: not thread-safe; use it from the test's main thread only (the
// child is started with PR_SET_PDEATHSIG tied to the starting thread).
// Failures: Start()/Restart() return an AssertionResult that carries the
// broker's log when the broker did not come up; the other methods never throw.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace courier::it {

struct BrokerOptions {
  // Load the Courier plugin (COURIER_PLUGIN_PATH). False gives a plain broker,
  // used by the harness smoke test.
  bool with_plugin = true;
  // Extra plugin options, written as `plugin_opt_<key> <value>`.
  std::vector<std::pair<std::string, std::string>> plugin_opts;
  // Extra raw configuration lines.
  std::vector<std::string> extra_config;
};

class Broker {
 public:
  explicit Broker(BrokerOptions options = {});
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  // Picks a free loopback port, writes the config, starts mosquitto and waits
  // (up to 10 s) until the port accepts TCP connections. Retries with a new
  // port if the process exits early (e.g. the port was taken meanwhile).
  ::testing::AssertionResult Start();
  // Starts again on the same port with the same data directory.
  ::testing::AssertionResult Restart();
  // SIGKILL by pid, then waitpid. No-op when not running.
  void Kill9();
  // SIGTERM by pid, waitpid; SIGKILL after 5 s. No-op when not running.
  void Stop();

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  // The temporary directory; the plugin's database lives in db_path().
  const std::string& data_dir() const { return dir_; }
  std::string db_path() const { return dir_ + "/db"; }
  // The broker's log file plus anything it wrote to stdout/stderr.
  std::string log() const;

 private:
  ::testing::AssertionResult Launch();  // uses port_
  void WriteConfig() const;
  void Reap(int timeout_ms);

  BrokerOptions options_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace courier::it
