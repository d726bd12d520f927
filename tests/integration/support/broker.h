// Broker: one real mosquitto process for one test, with the Courier plugin:
// the gtest layer over proc::Mosquitto (tests/proc), which owns the process
// and the directory.
//
// Ownership: a Broker owns its proc::Mosquitto: a child process (by pid) and
// a temporary directory (mkdtemp under /tmp). The destructor always ends the
// process with SIGKILL by pid, reaps it, and removes the directory (set
// COURIER_IT_KEEP=1 in the environment to keep the directory for post-mortem
// inspection). Under COURIER_IT_BROKER_PRELOAD (the ASan runtime) it stops
// the broker gracefully first, and a sanitizer report in its log fails the
// test.
// Engine: LMDB in db_path() by default. With COURIER_IT_STORE=postgres and
// COURIER_IT_PG=<conninfo without dbname> in the environment (scripts/test.sh,
// stage postgres), every Broker gets a fresh database of its own on that
// server, created over libpq at its first Start() and reused by Restart(),
// and its configuration says `plugin_opt_store postgres` and
// `plugin_opt_pg_conninfo <conninfo with dbname>` instead of a db_path; the
// destructor drops the database (kept with COURIER_IT_KEEP=1). Tests that
// read or break the LMDB files themselves carry the ctest label `lmdb` and
// are left out of that run.
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

#include "proc/mosquitto.h"

namespace courier::it {

struct BrokerOptions {
  // Load the Courier plugin (COURIER_PLUGIN_PATH). False gives a plain broker,
  // used by the harness smoke test.
  bool with_plugin = true;
  // Extra plugin options, written as `plugin_opt_<key> <value>`.
  std::vector<std::pair<std::string, std::string>> plugin_opts;
  // Extra raw configuration lines, written after the listener.
  std::vector<std::string> extra_config;
  // Raw configuration lines written first, before the listener (options
  // such as `per_listener_settings true` that change how later lines apply).
  std::vector<std::string> pre_config;
  // Raw configuration lines written last, after the plugin's lines (e.g.
  // another plugin that must come after Courier's `plugin` line).
  std::vector<std::string> post_config;
  // The store directory (plugin_opt_db_path). Empty: data_dir() + "/db",
  // created by the constructor. When set, the Broker neither creates nor
  // removes it. Not written when the tests run on PostgreSQL.
  std::string db_path;
  // A PostgreSQL conninfo (with dbname) the test owns: the broker is an
  // edge on that database (`plugin_opt_store postgres`,
  // `plugin_opt_pg_conninfo`), whatever COURIER_IT_STORE says, and the
  // Broker neither creates nor drops it. Several brokers given the same
  // conninfo share one database (the scale-out tests). Empty: as above.
  std::string pg_conninfo;
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
  // For configurations that must not start: launches once on a free port and
  // waits (up to 10 s) for the process to exit on its own. Succeeds when it
  // exited, and stores waitpid's status in *wait_status. Fails (and kills
  // the process) when it is still running after 10 s.
  ::testing::AssertionResult StartExpectingExit(int* wait_status);
  // True when the process is still running (has not exited or been reaped).
  bool Alive();
  // SIGKILL by pid, then waitpid. No-op when not running.
  void Kill9();
  // SIGTERM by pid, waitpid; SIGKILL after 5 s. No-op when not running.
  void Stop();

  bool running() const { return mosquitto_.running(); }
  pid_t pid() const { return mosquitto_.pid(); }
  int port() const { return mosquitto_.port(); }
  // The temporary directory; the plugin's database lives in db_path().
  const std::string& data_dir() const { return mosquitto_.dir(); }
  std::string db_path() const { return options_.db_path.empty() ? data_dir() + "/db" : options_.db_path; }
  // The options; changes take effect at the next Start() or Restart(), which
  // rewrite the configuration file.
  BrokerOptions& options() { return options_; }
  // The broker's log file plus anything it wrote to stdout/stderr.
  std::string log() const;
  // The PostgreSQL database of this broker ("" on LMDB, and before the first
  // Start()), and the conninfo the plugin is given for it.
  const std::string& pg_database() const { return pg_database_; }
  std::string pg_conninfo() const;

 private:
  // On PostgreSQL: creates this broker's database once; fails with why.
  ::testing::AssertionResult PrepareStore();
  // Turns options_ into the configuration's lines.
  void Configure();
  // An AssertionResult with the log for a launch that did not come up.
  ::testing::AssertionResult Judge(const proc::Launch& launch);

  BrokerOptions options_;
  proc::Mosquitto mosquitto_;
  int last_exit_status_ = -1;  // waitpid status of the last launch that exited on its own
  std::string pg_server_;      // COURIER_IT_PG when COURIER_IT_STORE=postgres, else empty
  std::string pg_database_;    // created by the first Start()
};

// True when the environment selects PostgreSQL for the integration tests
// (COURIER_IT_STORE=postgres); *server then gets COURIER_IT_PG.
bool PostgresRequested(std::string* server);

}  // namespace courier::it
