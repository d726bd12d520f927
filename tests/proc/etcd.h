// Etcd: one single-member etcd 3.4 server (Debian's etcd-server) that a
// test starts on loopback ports as the store of a Patroni cluster, and ends
// by its pid.
//
// Start() picks free client and peer ports on 127.0.0.1, runs `etcd` with
// its data in dir()/data and its output in dir()/etcd.log, and waits until
// GET /health on the client port answers 200. Patroni reaches it through
// its `etcd3:` section (etcd 3.4 serves the v3 API; v2 is off by default).
//
// Ownership: an Etcd owns its TempDir (mkdtemp under /tmp) and its process
// (proc::Process); the destructor kills the process by pid with SIGKILL,
// reaps it and removes the directory unless keep_dir. Runs as the current
// user (root is fine for etcd).
// Threads: use it from one thread that outlives the server
// (PR_SET_PDEATHSIG). Failures: Start() returns false with *error (and the
// log); nothing throws (but std::bad_alloc).
#pragma once

#include <chrono>
#include <string>

#include "proc/process.h"
#include "proc/temp_dir.h"

namespace courier::proc {

struct EtcdOptions {
  std::string binary = "etcd";
  bool keep_dir = false;
  std::chrono::milliseconds start_timeout{20'000};  // per launch, until /health answers 200
  int start_attempts = 3;                           // launches on newly picked ports
};

class Etcd {
 public:
  explicit Etcd(EtcdOptions options = {});
  ~Etcd();  // Kill(), then the directory goes unless keep_dir
  Etcd(const Etcd&) = delete;
  Etcd& operator=(const Etcd&) = delete;

  bool Start(std::string* error);
  // SIGKILL by pid, then reap. No-op when not running.
  void Kill() { child_.Kill(); }

  bool running() const { return child_.running(); }
  pid_t pid() const { return child_.pid(); }
  int client_port() const { return client_port_; }
  const std::string& dir() const { return dir_.path(); }
  std::string ReadLog() const;

 private:
  bool LaunchOnce(std::string* error);

  EtcdOptions options_;
  TempDir dir_;
  int client_port_ = 0, peer_port_ = 0;
  Process child_;  // declared after dir_: killed before the directory goes
};

}  // namespace courier::proc
