// Process: one child process, started with fork/exec and ended by its pid.
//
// Ownership: a Process owns the one pid it started. Kill(), Stop() and the
// destructor signal that pid only (never a group or a name) and reap it, so
// whoever starts a process also ends it. The child gets
// PR_SET_PDEATHSIG(SIGKILL): it also dies if its starter does.
// Threads: use a Process from one thread, one that outlives the child
// (PDEATHSIG fires when the forking thread exits). Only async-signal-safe
// calls run between fork and exec, so the parent may have other threads.
// Failures: Spawn() returns false with *error when fork fails; a failed exec
// (or a failed drop to run_as_uid) shows as exit status 127. Nothing else reports errors; nothing throws
// except std::bad_alloc while preparing the arguments.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace courier::proc {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0]: a path, or a name looked up in PATH
  std::vector<std::string> env;   // NAME=value, added to or replacing the parent's environment
  std::string output_file;        // stdout and stderr appended here; empty: inherited
  // Descriptors dup2'ed onto 0, 1 and 2 in the child (after output_file); -1: unchanged.
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;
  // Own process group, so that a signal the child sends to its group reaches no test process.
  bool new_process_group = false;
  // When >= 0: the child drops to this user (and run_as_gid, its only group)
  // before exec, so that the pid is the program's own (no runuser or su in
  // between). For servers that refuse to run as root (PostgreSQL).
  int run_as_uid = -1;
  int run_as_gid = -1;
};

class Process {
 public:
  Process() = default;
  ~Process();  // Kill()
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Starts a child; fails when one is still running or fork fails.
  bool Spawn(const SpawnOptions& options, std::string* error);
  // The running child's pid; -1 before Spawn() and once it has been reaped.
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // Reaps the child if it has exited, without waiting. True once it has been
  // reaped (now or before); false while it runs or when none was started.
  bool Exited();
  // waitpid status of the reaped child; -1 while it runs or when unknown.
  int wait_status() const { return status_; }
  // Waits up to `timeout` for the child to exit; true when it did. On
  // timeout it is left running.
  bool WaitExit(std::chrono::milliseconds timeout);
  // kill(pid, sig) while the child runs.
  void Signal(int sig);
  // SIGKILL, then reap. No-op when not running.
  void Kill();
  // SIGTERM, up to `grace` for the exit, then Kill().
  void Stop(std::chrono::milliseconds grace);

 private:
  void Reaped(int status);

  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = -1;
};

}  // namespace courier::proc
