#include "proc/patroni.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

#include "proc/http_get.h"
#include "proc/loopback.h"
#include "proc/process_tree.h"
#include "proc/read_file.h"

namespace courier::proc {
namespace {

std::string Addr(int port) { return "127.0.0.1:" + std::to_string(port); }

// The cluster-wide settings Patroni writes into etcd at bootstrap.
void WriteBootstrap(std::ostream& y, const PatroniOptions& o) {
  y << "bootstrap:\n"
    << "  dcs:\n"
    << "    ttl: " << o.ttl << "\n"
    << "    loop_wait: " << o.loop_wait << "\n"
    << "    retry_timeout: " << o.retry_timeout << "\n"
    << "    maximum_lag_on_failover: 1048576\n"
    << "    synchronous_mode: " << (o.synchronous_mode ? "true" : "false") << "\n"
    << "    synchronous_node_count: " << o.synchronous_node_count << "\n"
    << "    postgresql:\n"
    << "      use_pg_rewind: true\n"
    << "      parameters:\n"
    << "        wal_level: replica\n"
    << "        hot_standby: 'on'\n"
    << "        max_wal_senders: 10\n"
    << "        max_replication_slots: 10\n"
    << "        wal_log_hints: 'on'\n"
    << "  initdb:\n"
    << "    - encoding: UTF8\n"
    << "    - locale: C\n"
    << "    - auth: trust\n"
    << "  pg_hba:\n"
    << "    - local all all trust\n"
    << "    - host all all 127.0.0.1/32 trust\n"
    << "    - host replication all 127.0.0.1/32 trust\n";
}

}  // namespace

std::string PatroniConfig(const PatroniOptions& o, const std::string& dir, int pg_port, int rest_port) {
  std::ostringstream y;
  y << "scope: " << o.scope << "\n"
    << "name: " << o.name << "\n"
    << "log:\n  level: INFO\n"
    << "restapi:\n"
    << "  listen: " << Addr(rest_port) << "\n"
    << "  connect_address: " << Addr(rest_port) << "\n"
    << "etcd3:\n"
    << "  hosts: " << Addr(o.etcd_port) << "\n";
  WriteBootstrap(y, o);
  y << "postgresql:\n"
    << "  listen: " << Addr(pg_port) << "\n"
    << "  connect_address: " << Addr(pg_port) << "\n"
    << "  data_dir: " << dir << "/data\n"
    << "  bin_dir: " << o.bindir << "\n"
    << "  pgpass: " << dir << "/pgpass\n"
    << "  basebackup:\n    - checkpoint: fast\n"
    << "  authentication:\n"
    << "    superuser:\n      username: postgres\n"
    << "    replication:\n      username: postgres\n"
    << "  parameters:\n"
    << "    unix_socket_directories: " << dir << "\n";
  for (const auto& p : o.parameters) y << "    " << p << "\n";
  return y.str();
}

PatroniNode::PatroniNode(PatroniOptions options) : options_(std::move(options)), dir_("courier-patroni-") {
  dir_.set_keep(options_.keep_dir);
}

PatroniNode::~PatroniNode() {
  std::string ignored;
  Kill(&ignored);
}

bool PatroniNode::PrepareDir(std::string* error) {
  if (!dir_.ok()) {
    *error = "no directory for " + options_.name + ": " + dir_.error();
    return false;
  }
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (pw == nullptr) {
      *error = "running as root, and there is no postgres user to run PostgreSQL as";
      return false;
    }
    uid_ = static_cast<int>(pw->pw_uid);
    gid_ = static_cast<int>(pw->pw_gid);
    if (::chown(dir().c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      *error = "cannot chown " + dir();
      return false;
    }
  }
  ::chmod(dir().c_str(), 0700);
  return true;
}

bool PatroniNode::Start(std::string* error) {
  if (!PrepareDir(error)) return false;
  pg_port_ = PickFreePort();
  rest_port_ = PickFreePort();
  if (pg_port_ == 0 || rest_port_ == 0 || pg_port_ == rest_port_) {
    *error = "no free loopback ports for " + options_.name;
    return false;
  }
  const std::string config = dir() + "/patroni.yml";
  std::ofstream(config, std::ios::trunc) << PatroniConfig(options_, dir(), pg_port_, rest_port_);
  SpawnOptions spawn;
  spawn.argv = {options_.binary, config};
  spawn.env = {"HOME=" + dir()};
  spawn.output_file = dir() + "/patroni.log";
  spawn.run_as_uid = uid_;
  spawn.run_as_gid = gid_;
  if (!child_.Spawn(spawn, error)) return false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!PortAccepts(rest_port_)) {
    if (child_.Exited() || std::chrono::steady_clock::now() >= deadline) {
      *error = options_.name + ": Patroni's REST API did not come up\n" + ReadLog();
      child_.Kill();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

pid_t PatroniNode::PostmasterPid() const {
  const std::string text = ReadWholeFile(data_dir() + "/postmaster.pid");
  const pid_t pid = static_cast<pid_t>(std::strtol(text.c_str(), nullptr, 10));
  // The file outlives a killed server: the pid must still be this node's postmaster.
  return PidAlive(pid) && CommandLineMentions(pid, data_dir()) ? pid : -1;
}

bool PatroniNode::Kill(std::string* error) {
  std::vector<pid_t> killed;
  if (child_.running()) {
    killed = KillTree(child_.pid());  // Patroni first: it can restart nothing now
    child_.Kill();                    // reaps it
  }
  if (!dir_.ok()) return true;
  std::vector<pid_t> servers = PidsMentioning(data_dir());
  if (const pid_t postmaster = PostmasterPid(); postmaster > 0) servers.push_back(postmaster);
  for (pid_t p : servers) {
    for (pid_t k : KillTree(p)) killed.push_back(k);
  }
  if (!WaitGone(killed, std::chrono::seconds(10))) {
    *error = options_.name + ": processes survived SIGKILL";
    return false;
  }
  return true;
}

bool PatroniNode::IsPrimary() const { return running() && HttpGet(rest_port_, "/primary").status == 200; }

bool PatroniNode::IsSyncStandby() const { return running() && HttpGet(rest_port_, "/sync").status == 200; }

std::string PatroniNode::Status() const { return running() ? HttpGet(rest_port_, "/patroni").body : std::string(); }

std::string PatroniNode::ReadLog() const { return ReadWholeFile(dir() + "/patroni.log"); }

}  // namespace courier::proc
