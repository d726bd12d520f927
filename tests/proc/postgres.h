// Postgres: one PostgreSQL 15 server that a test (or courier_pg_server, for a
// whole ctest run) starts on a loopback port, talks to over libpq, and ends
// by its pid.
//
// The binaries come from $COURIER_PG_BINDIR, else `pg_config --bindir`, else
// /usr/lib/postgresql/15/bin (PostgresBindir()). PostgreSQL refuses to run
// as root: when the effective uid is 0, the directory is given to the
// `postgres` user (mode 0700) and initdb, pg_basebackup and the server run
// as that user, dropped to in the forked child before exec (SpawnOptions::
// run_as_uid), so the pid the test holds is the postmaster's own. Not root:
// everything runs as the current user.
//
// The first Start() runs `initdb -A trust -U postgres --no-sync` into
// dir()/data (MakeStandby() fills it from a primary instead). Every launch
// rewrites dir()/data/courier.conf (included by postgresql.conf) from
// options().settings, then runs `postgres -D <data> -p <port> -c
// listen_addresses=127.0.0.1 -k <dir>` and waits until a libpq connection
// is accepted (PQping). Its log (stderr) goes to dir()/postgres.log.
//
// Ownership: a Postgres owns its TempDir (mkdtemp under /tmp: data, socket,
// logs) and the postmaster (proc::Process). The destructor stops the server
// (fast shutdown, SIGKILL after 5 s), reaps it and removes the directory
// unless options.keep_dir. The postmaster's own children (backends, WAL
// writer...) are its business: a fast shutdown ends them; after Kill() they
// notice the postmaster is gone and exit on their own.
// Threads: use it from one thread that outlives the server
// (PR_SET_PDEATHSIG). Failures: Start()/Restart() report through the Launch
// they return, the other calls return false with *error; nothing throws
// (but std::bad_alloc).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "proc/launch.h"
#include "proc/process.h"
#include "proc/temp_dir.h"

namespace courier::proc {

struct PostgresOptions {
  std::string bindir;  // empty: PostgresBindir()
  std::string dir_prefix = "courier-pg-";
  bool keep_dir = false;  // leave the directory behind
  // postgresql.conf lines ("name = value"), written to courier.conf before
  // every launch; e.g. "synchronous_standby_names = '*'". The defaults trade
  // durability against an OS crash (not a process crash) for speed.
  std::vector<std::string> settings = {"fsync = off", "full_page_writes = off"};
  std::chrono::milliseconds start_timeout{30'000};  // per launch, until libpq connects
  std::chrono::milliseconds poll_interval{50};      // how often it is tried meanwhile
  std::chrono::milliseconds tool_timeout{120'000};  // initdb, pg_basebackup
  int start_attempts = 5;                           // launches Start() and Restart() try
};

class Postgres {
 public:
  explicit Postgres(PostgresOptions options = {});
  ~Postgres();  // Stop(5 s), then the directory goes unless keep_dir
  Postgres(const Postgres&) = delete;
  Postgres& operator=(const Postgres&) = delete;

  // The directory (socket, logs, data/); empty when it could not be made
  // (dir_error() says why).
  const std::string& dir() const { return dir_.path(); }
  const std::string& dir_error() const { return dir_.error(); }
  std::string data_dir() const { return dir() + "/data"; }
  // Changes take effect at the next launch.
  PostgresOptions& options() { return options_; }

  // initdb when the data directory is still empty, then up to
  // start_attempts launches, each on a newly picked free port. Returns the
  // first accepting launch, or the last failed one.
  Launch Start();
  // Up to start_attempts launches on the same port and data, `pause` apart.
  Launch Restart(std::chrono::milliseconds pause = std::chrono::milliseconds(200));
  // Fast shutdown (SIGINT: open sessions are ended), up to `grace` for the
  // exit, then SIGKILL. No-op when not running.
  void Stop(std::chrono::milliseconds grace);
  // SIGKILL to the postmaster, then reap. No-op when not running.
  void Kill() { child_.Kill(); }
  // Reaps the server if it exited; true when it is not running (any more).
  bool Exited() { return child_.Exited(); }

  bool running() const { return child_.running(); }
  pid_t pid() const { return child_.pid(); }
  int port() const { return port_; }
  // "host=127.0.0.1 port=N user=postgres": the server, no database.
  std::string ServerConninfo() const;
  // ServerConninfo() plus dbname=`dbname`.
  std::string Conninfo(const std::string& dbname) const;

  // Setup statements over libpq (pg_client.h); the server must be running.
  bool CreateDatabase(const std::string& name, std::string* error);
  bool Exec(const std::string& sql, std::string* error, const std::string& dbname = "postgres",
            std::string* first_value = nullptr);

  // Fills the (still empty) data directory with `pg_basebackup -R` from the
  // running `primary`: the next Start() runs a streaming standby of it.
  bool MakeStandby(const Postgres& primary, std::string* error);
  // Promotes this running standby to a primary (pg_promote, waiting up to
  // 60 s for the promotion to finish).
  bool Promote(std::string* error);

  // What the server logged; empty until written.
  std::string ReadLog() const;

 private:
  // Runs a tool (initdb, pg_basebackup) as the server's user to completion.
  bool RunTool(const std::vector<std::string>& argv, const std::string& log_name, std::string* error);
  bool InitDb(std::string* error);
  bool WriteSettings(std::string* error) const;
  Launch LaunchOnPort();
  std::string Tool(const std::string& name) const { return options_.bindir + "/" + name; }

  PostgresOptions options_;
  TempDir dir_;
  int uid_ = -1, gid_ = -1;  // the `postgres` user when running as root
  std::string setup_error_;  // why the directory could not be prepared
  int port_ = 0;
  Process child_;  // declared after dir_: ended before the directory goes
};

// Where the PostgreSQL server binaries are (see the top of this file); empty
// when none of the places has initdb.
std::string PostgresBindir();

}  // namespace courier::proc
