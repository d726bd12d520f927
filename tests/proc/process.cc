#include "proc/process.h"

#include <fcntl.h>
#include <signal.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace courier::proc {
namespace {

// The parent's environment with `overrides` (NAME=value) added or replacing.
std::vector<std::string> MergedEnvironment(const std::vector<std::string>& overrides) {
  auto name = [](const std::string& s) { return s.substr(0, s.find('=')); };
  std::vector<std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string var = *e;
    bool replaced = false;
    for (const auto& o : overrides) replaced = replaced || name(o) == name(var);
    if (!replaced) out.push_back(var);
  }
  out.insert(out.end(), overrides.begin(), overrides.end());
  return out;
}

}  // namespace

Process::~Process() { Kill(); }

bool Process::Spawn(const SpawnOptions& options, std::string* error) {
  if (running()) {
    *error = "a child is still running (pid " + std::to_string(pid_) + ")";
    return false;
  }
  if (options.argv.empty()) {
    *error = "no program";
    return false;
  }
  // Everything the child needs is built before fork.
  std::vector<std::string> argv = options.argv;
  std::vector<std::string> env = MergedEnvironment(options.env);
  std::vector<char*> args, envp;
  for (auto& s : argv) args.push_back(s.data());
  args.push_back(nullptr);
  for (auto& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  const char* out_file = options.output_file.empty() ? nullptr : options.output_file.c_str();

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (pid == 0) {
    // Credentials first: changing them clears the parent-death signal.
    if (options.run_as_uid >= 0) {
      const gid_t gid = static_cast<gid_t>(options.run_as_gid);
      if (::setgroups(1, &gid) != 0 || ::setgid(gid) != 0 || ::setuid(static_cast<uid_t>(options.run_as_uid)) != 0) {
        ::_exit(127);
      }
    }
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
    if (out_file != nullptr) {
      int fd = ::open(out_file, O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, STDOUT_FILENO);
        ::dup2(fd, STDERR_FILENO);
        ::close(fd);
      }
    }
    if (options.stdin_fd >= 0) ::dup2(options.stdin_fd, STDIN_FILENO);
    if (options.stdout_fd >= 0) ::dup2(options.stdout_fd, STDOUT_FILENO);
    if (options.stderr_fd >= 0) ::dup2(options.stderr_fd, STDERR_FILENO);
    if (options.new_process_group) ::setpgid(0, 0);
    ::execvpe(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  pid_ = pid;
  reaped_ = false;
  status_ = -1;
  return true;
}

void Process::Reaped(int status) {
  pid_ = -1;
  reaped_ = true;
  status_ = status;
}

bool Process::Exited() {
  if (pid_ > 0) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) Reaped(status);
    if (r < 0 && errno == ECHILD) Reaped(-1);  // reaped elsewhere: status unknown
  }
  return reaped_;
}

bool Process::WaitExit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!Exited()) {
    if (!running() || std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

void Process::Signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

void Process::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  pid_t r;
  while ((r = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {}
  Reaped(r == pid_ ? status : -1);
}

void Process::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  if (!WaitExit(grace)) Kill();
}

}  // namespace courier::proc
