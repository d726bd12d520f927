#include "proc/postgres.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <utility>

#include "proc/loopback.h"
#include "proc/pg_client.h"
#include "proc/read_file.h"

namespace courier::proc {

using Clock = std::chrono::steady_clock;

namespace {

bool HasInitdb(const std::string& dir) { return !dir.empty() && ::access((dir + "/initdb").c_str(), X_OK) == 0; }

// The first line `command` prints; empty when it fails.
std::string FirstLineOf(const char* command) {
  FILE* p = ::popen(command, "r");
  if (p == nullptr) return {};
  char buf[4096];
  std::string line = std::fgets(buf, sizeof buf, p) != nullptr ? buf : "";
  ::pclose(p);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}

}  // namespace

std::string PostgresBindir() {
  const char* env = std::getenv("COURIER_PG_BINDIR");
  if (env != nullptr && HasInitdb(env)) return env;
  const std::string configured = FirstLineOf("pg_config --bindir 2>/dev/null");
  if (HasInitdb(configured)) return configured;
  const std::string debian = "/usr/lib/postgresql/15/bin";
  return HasInitdb(debian) ? debian : std::string();
}

Postgres::Postgres(PostgresOptions options) : options_(std::move(options)), dir_(options_.dir_prefix) {
  dir_.set_keep(options_.keep_dir);
  if (options_.bindir.empty()) options_.bindir = PostgresBindir();
  if (!dir_.ok()) return;
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) {
      setup_error_ = "running as root, and there is no postgres user to run PostgreSQL as";
      return;
    }
    uid_ = static_cast<int>(pw->pw_uid);
    gid_ = static_cast<int>(pw->pw_gid);
    if (::chown(dir().c_str(), pw->pw_uid, pw->pw_gid) != 0) setup_error_ = "cannot chown " + dir();
  }
  ::chmod(dir().c_str(), 0700);
}

Postgres::~Postgres() {
  Stop(std::chrono::seconds(5));
  dir_.set_keep(options_.keep_dir);
  if (options_.keep_dir && dir_.ok()) std::fprintf(stderr, "[courier-pg] kept directory %s\n", dir().c_str());
}

std::string Postgres::ServerConninfo() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres";
}

std::string Postgres::Conninfo(const std::string& dbname) const { return PgWithDatabase(ServerConninfo(), dbname); }

bool Postgres::RunTool(const std::vector<std::string>& argv, const std::string& log_name, std::string* error) {
  Process tool;
  SpawnOptions spawn;
  spawn.argv = argv;
  spawn.output_file = dir() + "/" + log_name;
  spawn.run_as_uid = uid_;
  spawn.run_as_gid = gid_;
  if (!tool.Spawn(spawn, error)) return false;
  if (!tool.WaitExit(options_.tool_timeout)) {
    tool.Kill();
    *error = argv[0] + " did not finish in time\n" + ReadWholeFile(spawn.output_file);
    return false;
  }
  const int status = tool.wait_status();
  if (status != 0) {
    *error = argv[0] + " failed (status " + std::to_string(status) + ")\n" + ReadWholeFile(spawn.output_file);
    return false;
  }
  return true;
}

bool Postgres::InitDb(std::string* error) {
  if (!RunTool({Tool("initdb"), "-D", data_dir(), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8",
                "--locale=C", "--no-instructions"},
               "initdb.log", error)) {
    return false;
  }
  std::ofstream conf(data_dir() + "/postgresql.conf", std::ios::app);
  conf << "include_if_exists = 'courier.conf'\n";
  if (!conf.flush()) {
    *error = "cannot append to " + data_dir() + "/postgresql.conf";
    return false;
  }
  return true;
}

bool Postgres::WriteSettings(std::string* error) const {
  const std::string path = data_dir() + "/courier.conf";
  std::ofstream conf(path, std::ios::trunc);
  for (const auto& line : options_.settings) conf << line << "\n";
  if (!conf.flush()) {
    *error = "cannot write " + path;
    return false;
  }
  return true;
}

Launch Postgres::LaunchOnPort() {
  Launch launch;
  if (!WriteSettings(&launch.error)) return launch;
  SpawnOptions spawn;
  spawn.argv = {
      Tool("postgres"), "-D", data_dir(), "-p", std::to_string(port_), "-c", "listen_addresses=127.0.0.1", "-k", dir()};
  spawn.output_file = dir() + "/postgres.log";
  spawn.run_as_uid = uid_;
  spawn.run_as_gid = gid_;
  const auto forked = Clock::now();
  if (!child_.Spawn(spawn, &launch.error)) return launch;

  const std::string probe = Conninfo("postgres") + " connect_timeout=2";
  const auto deadline = forked + options_.start_timeout;
  while (Clock::now() < deadline) {
    if (child_.Exited()) {
      launch.outcome = LaunchOutcome::kExited;
      launch.exit_status = child_.wait_status();
      return launch;
    }
    if (PQping(probe.c_str()) == PQPING_OK) {
      launch.outcome = LaunchOutcome::kAccepting;
      launch.to_port = Clock::now() - forked;
      return launch;
    }
    std::this_thread::sleep_for(options_.poll_interval);
  }
  Stop(std::chrono::seconds(5));
  launch.outcome = LaunchOutcome::kTimedOut;
  return launch;
}

Launch Postgres::Start() {
  Launch last;
  if (!dir_.ok() || !setup_error_.empty() || options_.bindir.empty()) {
    last.error = !dir_.ok()              ? dir_.error()
                 : !setup_error_.empty() ? setup_error_
                                         : "no PostgreSQL binaries (set COURIER_PG_BINDIR, or install postgresql-15)";
    return last;
  }
  if (::access((data_dir() + "/PG_VERSION").c_str(), F_OK) != 0 && !InitDb(&last.error)) return last;
  return LaunchOnFreePort(options_.start_attempts, &port_, [this] { return LaunchOnPort(); });
}

Launch Postgres::Restart(std::chrono::milliseconds pause) {
  return RelaunchOnPort(options_.start_attempts, pause, [this] { return LaunchOnPort(); });
}

void Postgres::Stop(std::chrono::milliseconds grace) {
  if (!child_.running()) return;
  child_.Signal(SIGINT);
  if (!child_.WaitExit(grace)) child_.Kill();
}

bool Postgres::CreateDatabase(const std::string& name, std::string* error) {
  return PgCreateDatabase(ServerConninfo(), name, error);
}

bool Postgres::Exec(const std::string& sql, std::string* error, const std::string& dbname, std::string* first_value) {
  return PgExec(Conninfo(dbname), sql, error, first_value);
}

bool Postgres::MakeStandby(const Postgres& primary, std::string* error) {
  if (!dir_.ok() || !setup_error_.empty()) {
    *error = dir_.ok() ? setup_error_ : dir_.error();
    return false;
  }
  return RunTool({Tool("pg_basebackup"), "-h", "127.0.0.1", "-p", std::to_string(primary.port()), "-U", "postgres",
                  "-D", data_dir(), "-R", "-X", "stream", "-c", "fast", "--no-sync"},
                 "pg_basebackup.log", error);
}

bool Postgres::Promote(std::string* error) {
  std::string promoted;
  if (!Exec("SELECT pg_promote(true, 60)", error, "postgres", &promoted)) return false;
  if (promoted != "t") {
    *error = "pg_promote did not finish within 60 s";
    return false;
  }
  return true;
}

std::string Postgres::ReadLog() const { return ReadWholeFile(dir() + "/postgres.log"); }

}  // namespace courier::proc
