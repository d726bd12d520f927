#include "proc/patroni_cluster.h"

#include <algorithm>
#include <thread>
#include <utility>

namespace courier::proc {
namespace {

using Clock = std::chrono::steady_clock;

std::string Tail(const std::string& s, size_t n) { return s.size() <= n ? s : "...\n" + s.substr(s.size() - n); }

}  // namespace

PatroniCluster::PatroniCluster(int nodes, PatroniOptions node_options) : node_options_(std::move(node_options)) {
  nodes_.resize(static_cast<size_t>(nodes));
}

PatroniCluster::~PatroniCluster() {
  for (auto& n : nodes_) n.reset();  // every node's processes end before etcd does
  etcd_.Kill();
}

bool PatroniCluster::Start(std::chrono::milliseconds timeout, std::string* error) {
  if (!etcd_.Start(error)) return false;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    PatroniOptions o = node_options_;
    o.name = "node" + std::to_string(i);
    o.etcd_port = etcd_.client_port();
    nodes_[i] = std::make_unique<PatroniNode>(std::move(o));
    if (!nodes_[i]->Start(error)) return false;
  }
  const auto deadline = Clock::now() + timeout;
  if (WaitForPrimary(timeout, error) < 0) return false;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return WaitForSyncStandby(std::max(left, std::chrono::milliseconds(0)), error);
}

int PatroniCluster::PrimaryIndex() const {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i] && nodes_[i]->IsPrimary()) return static_cast<int>(i);
  }
  return -1;
}

int PatroniCluster::WaitForPrimary(std::chrono::milliseconds timeout, std::string* error) const {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (const int i = PrimaryIndex(); i >= 0) return i;
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  *error = "no node became the primary within " + std::to_string(timeout.count()) + " ms\n" + LogTails();
  return -1;
}

bool PatroniCluster::HasSyncStandby() const {
  const int primary = PrimaryIndex();
  if (primary < 0) return false;
  // GET /patroni on the primary lists pg_stat_replication: "replication":
  // [{..., "sync_state": "sync", ...}]; Patroni 3.0.2 shows "sync" (quorum
  // commit, "quorum", came with Patroni 4).
  const std::string status = nodes_[primary]->Status();
  for (size_t at = status.find("\"sync_state\""); at != std::string::npos; at = status.find("\"sync_state\"", at + 1)) {
    const size_t open = status.find('"', status.find(':', at) + 1);
    const size_t close = open == std::string::npos ? open : status.find('"', open + 1);
    if (close == std::string::npos) break;
    const std::string state = status.substr(open + 1, close - open - 1);
    if (state == "sync" || state == "quorum") return true;
  }
  return false;
}

bool PatroniCluster::WaitForSyncStandby(std::chrono::milliseconds timeout, std::string* error) const {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (HasSyncStandby()) return true;
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  *error = "no synchronous standby within " + std::to_string(timeout.count()) + " ms\n" + LogTails();
  return false;
}

std::string PatroniCluster::Conninfo(const std::string& dbname, const std::string& extra) const {
  std::string hosts, ports;
  for (const auto& n : nodes_) {
    hosts += (hosts.empty() ? "" : ",") + std::string("127.0.0.1");
    ports += (ports.empty() ? "" : ",") + std::to_string(n ? n->pg_port() : 0);
  }
  std::string out =
      "host=" + hosts + " port=" + ports + " user=postgres dbname=" + dbname + " target_session_attrs=read-write";
  return extra.empty() ? out : out + " " + extra;
}

std::string PatroniCluster::NodeConninfo(size_t i, const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(nodes_[i]->pg_port()) + " user=postgres dbname=" + dbname;
}

std::string PatroniCluster::LogTails(size_t bytes) const {
  std::string out;
  for (const auto& n : nodes_) {
    if (!n) continue;
    out += "----- " + n->name() + " (" + n->dir() + ") -----\n" + Tail(n->ReadLog(), bytes) + "\n";
  }
  return out;
}

}  // namespace courier::proc
