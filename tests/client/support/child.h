// Child: one process started by a client test (the courier CLI, the Docker
// entrypoint), with pipes to its stdin, stdout and stderr.
//
// Ownership: a Child owns its process through proc::Process (tests/proc):
// the destructor kills it with SIGKILL by pid and reaps it if it is still
// running; Wait()/Signal() end it earlier. It dies with the test
// (PR_SET_PDEATHSIG) and runs in its own process group.
// Threads: use one Child from one thread.
// Failures: Spawn() returns nullptr (and adds a test failure) when fork or
// pipe fails; an exec failure is exit code 127. The readers return what they
// got before a timeout.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "proc/process.h"
#include "proc/temp_dir.h"

namespace courier::client_test {

using namespace std::chrono_literals;

class Child {
 public:
  // argv[0] is the program's path. `env` entries (NAME=value) are added to
  // (or replace those of) the test's own environment.
  static std::unique_ptr<Child> Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return process_.pid(); }

  // Next line of stdout without its newline; nullopt at EOF or timeout.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout = 10s);
  // Reads stdout lines until one contains `needle`; returns it. Every line
  // read (also the ones skipped) is kept in lines().
  std::optional<std::string> WaitForLine(const std::string& needle, std::chrono::milliseconds timeout = 10s);
  const std::vector<std::string>& lines() const { return lines_; }

  void WriteStdin(const std::string& bytes);
  void CloseStdin();

  // Sends `sig` to the process (by pid).
  void Signal(int sig);
  // Waits for the exit; returns the exit code, 128+signal when killed by a
  // signal, or -1 on timeout (the process is left running). Reads what is
  // left on stdout and stderr meanwhile (see out() and err()).
  int Wait(std::chrono::milliseconds timeout = 20s);

  // Everything read from stdout (including lines()), and from stderr.
  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  Child() = default;
  // Reads whatever is available on stdout/stderr within `timeout`; false
  // when both are at EOF.
  bool Pump(std::chrono::milliseconds timeout);

  proc::Process process_;
  int in_ = -1, out_fd_ = -1, err_fd_ = -1;
  std::string out_, err_;
  size_t line_pos_ = 0;  // start of the first stdout line not handed out yet
  std::vector<std::string> lines_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a command to completion (stdin: `input`, then EOF).
RunResult RunProcess(const std::vector<std::string>& argv, const std::string& input = {},
                     std::chrono::milliseconds timeout = 30s, const std::vector<std::string>& env = {});

// Writes a self-signed certificate for localhost (key.pem, cert.pem, the
// key readable by the broker) into `dir` with openssl; the result of the
// openssl run (exit_code 0 when done).
RunResult MakeLocalhostCertificate(const std::string& dir);

// A fresh directory under /tmp, removed with everything in it by the
// destructor (proc::TempDir); a failed mkdtemp is a test failure.
class TempDir : public proc::TempDir {
 public:
  TempDir();
};

}  // namespace courier::client_test
