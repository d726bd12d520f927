#include "support/child.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <gtest/gtest.h>

namespace courier::client_test {
namespace {

using Clock = std::chrono::steady_clock;

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

}  // namespace

std::unique_ptr<Child> Child::Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe: " << std::strerror(errno);
    return nullptr;
  }
  std::unique_ptr<Child> c(new Child());
  proc::SpawnOptions spawn;
  spawn.argv = argv;
  spawn.env = env;
  spawn.stdin_fd = in[0];
  spawn.stdout_fd = out[1];
  spawn.stderr_fd = err[1];
  spawn.new_process_group = true;
  std::string error;
  const bool started = c->process_.Spawn(spawn, &error);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  c->in_ = in[1];
  c->out_fd_ = out[0];
  c->err_fd_ = err[0];
  if (!started) {
    ADD_FAILURE() << error;
    return nullptr;
  }
  ::fcntl(c->out_fd_, F_SETFL, O_NONBLOCK);
  ::fcntl(c->err_fd_, F_SETFL, O_NONBLOCK);
  return c;
}

Child::~Child() {
  CloseFd(in_);
  process_.Kill();
  CloseFd(out_fd_);
  CloseFd(err_fd_);
}

bool Child::Pump(std::chrono::milliseconds timeout) {
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  if (out_fd_ < 0 && err_fd_ < 0) return false;
  ::poll(fds, 2, static_cast<int>(timeout.count()));
  for (int i = 0; i < 2; ++i) {
    int& fd = i == 0 ? out_fd_ : err_fd_;
    std::string& into = i == 0 ? out_ : err_;
    if (fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    char buf[4096];
    while (true) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        into.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) CloseFd(fd);
      break;  // EAGAIN or EOF
    }
  }
  return out_fd_ >= 0 || err_fd_ >= 0;
}

std::optional<std::string> Child::ReadLine(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const auto nl = out_.find('\n', line_pos_);
    if (nl != std::string::npos) {
      std::string line = out_.substr(line_pos_, nl - line_pos_);
      line_pos_ = nl + 1;
      lines_.push_back(line);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || out_fd_ < 0) return std::nullopt;
    Pump(std::min(left, std::chrono::milliseconds(100)));
  }
}

std::optional<std::string> Child::WaitForLine(const std::string& needle, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto line = ReadLine(left);
    if (!line) return std::nullopt;
    if (line->find(needle) != std::string::npos) return line;
  }
}

void Child::WriteStdin(const std::string& bytes) {
  size_t done = 0;
  while (in_ >= 0 && done < bytes.size()) {
    const ssize_t n = ::write(in_, bytes.data() + done, bytes.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
}

void Child::CloseStdin() { CloseFd(in_); }

void Child::Signal(int sig) { process_.Signal(sig); }

int Child::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (process_.running()) {
    if (process_.Exited()) {
      while (Pump(std::chrono::milliseconds(100))) {}
      const int status = process_.wait_status();
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return -1;
    }
    if (Clock::now() >= deadline) return -1;
    Pump(std::chrono::milliseconds(20));
  }
  return -1;
}

RunResult RunProcess(const std::vector<std::string>& argv, const std::string& input, std::chrono::milliseconds timeout,
                     const std::vector<std::string>& env) {
  RunResult r;
  auto c = Child::Spawn(argv, env);
  if (!c) return r;
  c->WriteStdin(input);
  c->CloseStdin();
  r.exit_code = c->Wait(timeout);
  r.out = c->out();
  r.err = c->err();
  return r;
}

TempDir::TempDir() : proc::TempDir("courier-client-") {
  if (!ok()) ADD_FAILURE() << error();
}

RunResult MakeLocalhostCertificate(const std::string& d) {
  RunResult gen =
      RunProcess({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                  "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                  "-keyout", d + "/key.pem", "-out", d + "/cert.pem"});
  if (gen.exit_code == 0) ::chmod((d + "/key.pem").c_str(), 0644);  // the broker runs as another user under root
  return gen;
}

}  // namespace courier::client_test
