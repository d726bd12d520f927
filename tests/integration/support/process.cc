#include "support/process.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "proc/process.h"

namespace courier::it {

::testing::AssertionResult RunProgram(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  char tmpl[] = "/tmp/courier-it-run-XXXXXX";
  int fd = ::mkstemp(tmpl);
  if (fd < 0) return ::testing::AssertionFailure() << "mkstemp: " << std::strerror(errno);
  ::close(fd);
  const std::string out = tmpl;
  std::string cmd;
  for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
  proc::Process child;
  proc::SpawnOptions spawn;
  spawn.argv = argv;
  spawn.output_file = out;
  std::string error;
  if (!child.Spawn(spawn, &error)) {
    ::unlink(out.c_str());
    return ::testing::AssertionFailure() << cmd << ": " << error;
  }
  const bool exited = child.WaitExit(timeout);
  child.Kill();
  const int status = child.wait_status();
  std::string text = ReadWholeFile(out);
  ::unlink(out.c_str());
  if (!exited) {
    return ::testing::AssertionFailure() << cmd << ": still running after " << timeout.count() << " ms; killed\n"
                                         << text;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return ::testing::AssertionFailure() << cmd << " failed (wait status " << status << "):\n" << text;
  }
  return ::testing::AssertionSuccess();
}

}  // namespace courier::it
