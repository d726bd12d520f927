#include "proc/etcd.h"

#include <thread>
#include <utility>

#include "proc/http_get.h"
#include "proc/loopback.h"
#include "proc/read_file.h"

namespace courier::proc {

Etcd::Etcd(EtcdOptions options) : options_(std::move(options)), dir_("courier-etcd-") {
  dir_.set_keep(options_.keep_dir);
}

Etcd::~Etcd() { Kill(); }

std::string Etcd::ReadLog() const { return ReadWholeFile(dir() + "/etcd.log"); }

bool Etcd::LaunchOnce(std::string* error) {
  client_port_ = PickFreePort();
  peer_port_ = PickFreePort();
  if (client_port_ == 0 || peer_port_ == 0 || client_port_ == peer_port_) {
    *error = "no free loopback ports for etcd";
    return false;
  }
  const std::string client = "http://127.0.0.1:" + std::to_string(client_port_);
  const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
  SpawnOptions spawn;
  spawn.argv = {options_.binary,
                "--name=courier",
                "--data-dir=" + dir() + "/data",
                "--listen-client-urls=" + client,
                "--advertise-client-urls=" + client,
                "--listen-peer-urls=" + peer,
                "--initial-advertise-peer-urls=" + peer,
                "--initial-cluster=courier=" + peer,
                "--initial-cluster-state=new"};
  spawn.output_file = dir() + "/etcd.log";
  if (!child_.Spawn(spawn, error)) return false;
  const auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (child_.Exited()) {
      *error = "etcd exited (status " + std::to_string(child_.wait_status()) + ")";
      return false;
    }
    if (HttpGet(client_port_, "/health", std::chrono::milliseconds(500)).status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  child_.Kill();
  *error = "etcd did not answer /health in time";
  return false;
}

bool Etcd::Start(std::string* error) {
  if (!dir_.ok()) {
    *error = "no directory for etcd: " + dir_.error();
    return false;
  }
  for (int attempt = 0; attempt < options_.start_attempts; ++attempt) {
    RemoveTree(dir() + "/data");  // a failed launch may have left a member behind
    if (LaunchOnce(error)) return true;
  }
  *error += "\n" + ReadLog();
  return false;
}

}  // namespace courier::proc
