#include "support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace courier::it {

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
}

::testing::AssertionResult ChildProcess::Start(const std::vector<std::string>& argv,
                                               const std::string& output_file) {
  if (pid_ > 0) return ::testing::AssertionFailure() << "already running";
  if (argv.empty()) return ::testing::AssertionFailure() << "no program";
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return ::testing::AssertionFailure() << "fork: " << std::strerror(errno);
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    int fd = ::open(output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  pid_ = pid;
  status_ = -1;
  return ::testing::AssertionSuccess();
}

bool ChildProcess::Finished(int* wait_status) {
  if (pid_ <= 0) {
    *wait_status = status_;
    return status_ != -1;
  }
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    status_ = status;
    *wait_status = status;
    return true;
  }
  return false;
}

::testing::AssertionResult ChildProcess::Wait(std::chrono::milliseconds timeout, int* wait_status) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!Finished(wait_status)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
      return ::testing::AssertionFailure() << "still running after " << timeout.count()
                                           << " ms; killed";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult RunProgram(const std::vector<std::string>& argv,
                                      std::chrono::milliseconds timeout) {
  char tmpl[] = "/tmp/courier-it-run-XXXXXX";
  int fd = ::mkstemp(tmpl);
  if (fd < 0) return ::testing::AssertionFailure() << "mkstemp: " << std::strerror(errno);
  ::close(fd);
  const std::string out = tmpl;
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  ChildProcess child;
  auto started = child.Start(argv, out);
  if (!started) {
    ::unlink(out.c_str());
    return started;
  }
  int status = 0;
  auto waited = child.Wait(timeout, &status);
  std::string text = ReadWholeFile(out);
  ::unlink(out.c_str());
  if (!waited) return ::testing::AssertionFailure() << cmd << ": " << waited.message() << "\n" << text;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return ::testing::AssertionFailure() << cmd << " failed (wait status " << status << "):\n"
                                         << text;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace courier::it
