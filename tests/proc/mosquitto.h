// Mosquitto: one mosquitto broker process that a test or the bench starts,
// talks to over a loopback port, and ends by its pid.
//
// The configuration file is written before every launch, in a fixed order:
// the head lines, `listener <port> 127.0.0.1`, `allow_anonymous true`, the
// settings lines, `user root` (only when running as root, which mosquitto
// otherwise refuses), `log_dest file <dir>/mosquitto.log`, the body lines.
// Callers put everything else (plugins, persistence, logging detail) in
// those three lists; the directory exists from construction on, so lines
// may name paths inside dir().
//
// Ownership: a Mosquitto owns its TempDir (mkdtemp under /tmp; config, log
// and data) and its process (proc::Process). The destructor kills the process
// by pid with SIGKILL, reaps it, and removes the directory unless
// options.keep_dir. Threads: use it from one thread that outlives the broker
// (PR_SET_PDEATHSIG). Failures: Start()/Restart() report through the Launch
// they return; nothing throws (but std::bad_alloc).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "proc/launch.h"
#include "proc/process.h"
#include "proc/temp_dir.h"

namespace courier::proc {

struct MosquittoConfig {
  std::vector<std::string> head;      // before the listener (per_listener_settings ...)
  std::vector<std::string> settings;  // right after the listener and allow_anonymous
  std::vector<std::string> body;      // after the log destination
};

struct MosquittoOptions {
  std::string binary;  // the mosquitto executable
  std::string dir_prefix = "courier-mosquitto-";
  bool keep_dir = false;                            // leave the directory behind
  std::vector<std::string> env;                     // NAME=value added to the broker's environment
  std::string output_name = "stdout.log";           // file in dir() for its stdout and stderr
  std::chrono::milliseconds start_timeout{10'000};  // per launch, until the port accepts
  std::chrono::milliseconds poll_interval{20};      // how often the port is tried meanwhile
  // A launch that times out ends the broker: SIGKILL when zero, else SIGTERM
  // with this much grace before SIGKILL.
  std::chrono::milliseconds timeout_grace{0};
  int start_attempts = 5;  // launches Start() and Restart() try
};

class Mosquitto {
 public:
  explicit Mosquitto(MosquittoOptions options);
  ~Mosquitto();  // Kill(), then the directory goes unless keep_dir
  Mosquitto(const Mosquitto&) = delete;
  Mosquitto& operator=(const Mosquitto&) = delete;

  // The directory; empty when it could not be made (dir_error() says why).
  const std::string& dir() const { return dir_.path(); }
  const std::string& dir_error() const { return dir_.error(); }
  // Changes take effect at the next launch, which rewrites the file.
  MosquittoConfig& config() { return config_; }
  MosquittoOptions& options() { return options_; }

  // Up to start_attempts launches, each on a newly picked free port (another
  // process may take a port between the pick and the bind). Returns the
  // first accepting launch, or the last failed one.
  Launch Start();
  // Picks a free port and launches once.
  Launch StartOnce();
  // Up to start_attempts launches on the same port, `pause` between them
  // (a TIME_WAIT or a racing process may hold the port for a moment).
  Launch Restart(std::chrono::milliseconds pause);
  // One launch on port(): writes the config, forks, waits for the port.
  Launch LaunchOnPort();

  // Reaps the broker if it exited; true when it is not running (any more).
  bool Exited() { return child_.Exited(); }
  int wait_status() const { return child_.wait_status(); }
  void Kill() { child_.Kill(); }
  void Stop(std::chrono::milliseconds grace) { child_.Stop(grace); }

  bool running() const { return child_.running(); }
  pid_t pid() const { return child_.pid(); }
  int port() const { return port_; }
  std::string config_path() const { return dir() + "/mosquitto.conf"; }
  // What the broker logged (log_dest file), and what it wrote to stdout and
  // stderr; each empty until written.
  std::string ReadLog() const;
  std::string ReadOutput() const;

 private:
  bool WriteConfig() const;

  MosquittoOptions options_;
  MosquittoConfig config_;
  TempDir dir_;
  int port_ = 0;
  Process child_;  // declared after dir_: killed before the directory goes
};

// Under an ASan build (scripts/test.sh, docs/security.md) the plugin needs
// the ASan runtime loaded first into the uninstrumented mosquitto: the
// environment variable COURIER_IT_BROKER_PRELOAD names it. {"LD_PRELOAD=..."}
// when it is set, else empty.
std::vector<std::string> BrokerPreloadEnv();
// The first sanitizer report (ASan, LSan, UBSan) in a broker's log, with a
// little context before it; empty if none.
std::string SanitizerReport(const std::string& log);

}  // namespace courier::proc
