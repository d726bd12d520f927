#include "support/pg_cluster.h"

#include <dirent.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "proc/pg_client.h"

namespace courier::it {
namespace {

std::string Tail(const std::string& s) { return s.size() <= 3000 ? s : s.substr(s.size() - 3000); }

// Pids whose parent is `parent` (from /proc/<pid>/stat).
std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    const pid_t pid = static_cast<pid_t>(std::atoi(e->d_name));
    if (pid <= 0) continue;
    std::ifstream stat("/proc/" + std::string(e->d_name) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) out.push_back(pid);
  }
  ::closedir(d);
  return out;
}

// An LSN "X/Y" as a number.
uint64_t LsnValue(const std::string& lsn) {
  const auto slash = lsn.find('/');
  if (slash == std::string::npos) return 0;
  return (std::strtoull(lsn.substr(0, slash).c_str(), nullptr, 16) << 32) |
         std::strtoull(lsn.substr(slash + 1).c_str(), nullptr, 16);
}

}  // namespace

PgCluster::~PgCluster() {
  // Standbys first: a primary that waits for them stops promptly anyway.
  for (size_t i = nodes_.size(); i-- > 0;) nodes_[i]->Stop(std::chrono::seconds(5));
}

::testing::AssertionResult PgCluster::StartStandby(size_t i) {
  std::string error;
  auto node = std::make_unique<proc::Postgres>();
  if (!node->MakeStandby(*nodes_[primary_], &error)) {
    return ::testing::AssertionFailure() << "pg_basebackup for " << NameOf(i) << ": " << error;
  }
  // postgresql.auto.conf is read last; its last primary_conninfo wins.
  std::ofstream conf(node->data_dir() + "/postgresql.auto.conf", std::ios::app);
  conf << "primary_conninfo = 'host=127.0.0.1 port=" << nodes_[primary_]->port()
       << " user=postgres application_name=" << NameOf(i) << "'\n";
  if (!conf.flush()) return ::testing::AssertionFailure() << "cannot write " << node->data_dir();
  conf.close();
  auto launch = node->Start();
  if (!launch.accepting()) {
    return ::testing::AssertionFailure() << NameOf(i) << " did not start: " << launch.error << "\n"
                                         << Tail(node->ReadLog());
  }
  nodes_.push_back(std::move(node));
  dead_.push_back(false);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult PgCluster::Start(const std::string& database, int standbys, const std::string& sync) {
  database_ = database;
  nodes_.push_back(std::make_unique<proc::Postgres>());
  dead_.push_back(false);
  auto launch = nodes_[0]->Start();
  if (!launch.accepting()) {
    return ::testing::AssertionFailure() << "primary did not start: " << launch.error << "\n"
                                         << Tail(nodes_[0]->ReadLog());
  }
  std::string error;
  if (!nodes_[0]->CreateDatabase(database, &error)) return ::testing::AssertionFailure() << error;
  for (int i = 1; i <= standbys; ++i) {
    if (auto s = StartStandby(static_cast<size_t>(i)); !s) return s;
  }
  if (standbys == 0) return ::testing::AssertionSuccess();
  if (auto s = WaitStreaming(standbys); !s) return s;
  if (!nodes_[0]->Exec("ALTER SYSTEM SET synchronous_standby_names = '" + sync + "'", &error) ||
      !nodes_[0]->Exec("ALTER SYSTEM SET synchronous_commit = 'on'", &error) ||
      !nodes_[0]->Exec("SELECT pg_reload_conf()", &error)) {
    return ::testing::AssertionFailure() << error;
  }
  // The reload is asynchronous: wait until the quorum is in force.
  std::string value;
  for (int i = 0; i < 200; ++i) {
    if (nodes_[0]->Exec("SELECT count(*) FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum')", &error,
                        "postgres", &value) &&
        value == std::to_string(standbys)) {
      return ::testing::AssertionSuccess();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return ::testing::AssertionFailure() << "synchronous_standby_names '" << sync << "' never took effect (" << value
                                       << " synchronous standbys)";
}

std::string PgCluster::EdgeConninfo() const {
  if (nodes_.size() == 1) return PrimaryConninfo();
  std::string hosts, ports;
  for (const auto& n : nodes_) {
    hosts += (hosts.empty() ? "" : ",") + std::string("127.0.0.1");
    ports += (ports.empty() ? "" : ",") + std::to_string(n->port());
  }
  return "host=" + hosts + " port=" + ports + " user=postgres dbname=" + database_ +
         " target_session_attrs=read-write connect_timeout=2";
}

std::string PgCluster::PrimaryConninfo() const { return nodes_[primary_]->Conninfo(database_); }

void PgCluster::KillNode(size_t i) {
  const pid_t postmaster = nodes_[i]->pid();
  const std::vector<pid_t> children = ChildrenOf(postmaster);
  nodes_[i]->Kill();
  for (pid_t c : children) ::kill(c, SIGKILL);
  dead_[i] = true;
}

::testing::AssertionResult PgCluster::WaitStreaming(int n) {
  std::string value, error;
  for (int i = 0; i < 300; ++i) {
    if (nodes_[primary_]->Exec("SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'", &error, "postgres",
                               &value) &&
        value == std::to_string(n)) {
      return ::testing::AssertionSuccess();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return ::testing::AssertionFailure() << "the primary has " << value << " standbys streaming, want " << n << " ("
                                       << error << ")";
}

::testing::AssertionResult PgCluster::PromoteMostAdvanced(size_t* promoted, std::string* report) {
  uint64_t best = 0;
  size_t best_i = 0;
  std::string error;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (dead_[i] || i == primary_) continue;
    std::string caught_up = "f", replay;
    for (int k = 0; k < 200 && caught_up != "t"; ++k) {
      nodes_[i]->Exec("SELECT pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn()", &error, "postgres", &caught_up);
      if (caught_up != "t") std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!nodes_[i]->Exec("SELECT pg_last_wal_replay_lsn()", &error, "postgres", &replay)) {
      return ::testing::AssertionFailure() << NameOf(i) << ": " << error;
    }
    *report += NameOf(i) + " replayed " + replay + (caught_up == "t" ? "" : " (still replaying)") + "; ";
    if (best_i == 0 || LsnValue(replay) > best) best = LsnValue(replay), best_i = i;
  }
  if (best_i == 0) return ::testing::AssertionFailure() << "no live standby to promote";
  if (!nodes_[best_i]->Promote(&error)) {
    return ::testing::AssertionFailure() << "promoting " << NameOf(best_i) << ": " << error << "\n"
                                         << Tail(nodes_[best_i]->ReadLog());
  }
  primary_ = best_i;
  *promoted = best_i;
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult PgCluster::Repoint(size_t i) {
  std::string error;
  const std::string conninfo = "host=127.0.0.1 port=" + std::to_string(nodes_[primary_]->port()) +
                               " user=postgres application_name=" + NameOf(i);
  if (!nodes_[i]->Exec("ALTER SYSTEM SET primary_conninfo = '" + conninfo + "'", &error) ||
      !nodes_[i]->Exec("SELECT pg_reload_conf()", &error)) {
    return ::testing::AssertionFailure() << "re-pointing " << NameOf(i) << ": " << error;
  }
  if (auto s = WaitStreaming(1); !s) return s << "\n" << Tail(nodes_[i]->ReadLog());
  if (!nodes_[primary_]->Exec("ALTER SYSTEM SET synchronous_standby_names = 'ANY 1 (" + NameOf(i) + ")'", &error) ||
      !nodes_[primary_]->Exec("SELECT pg_reload_conf()", &error)) {
    return ::testing::AssertionFailure() << error;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace courier::it
