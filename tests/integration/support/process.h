// ChildProcess: a helper program (mdb_copy, ...) run by a test, ended by pid.
//
// Ownership: owns the child; the destructor kills it (SIGKILL by pid) and
// reaps it if it is still running. Threads: main test thread only (the child
// gets PR_SET_PDEATHSIG). Failures: Start() returns an AssertionResult;
// nothing throws.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace courier::it {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] (an absolute path or a name looked up in PATH) with its
  // stdout and stderr appended to `output_file`.
  ::testing::AssertionResult Start(const std::vector<std::string>& argv,
                                   const std::string& output_file);
  // True once the child has exited; *wait_status then holds waitpid's status.
  bool Finished(int* wait_status);
  // Waits up to `timeout` for the child to exit; kills it when it does not.
  ::testing::AssertionResult Wait(std::chrono::milliseconds timeout, int* wait_status);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int status_ = -1;
};

// Runs a program to completion (at most `timeout`); succeeds when it exited
// with status 0, otherwise the failure carries its output.
::testing::AssertionResult RunProgram(const std::vector<std::string>& argv,
                                      std::chrono::milliseconds timeout);

std::string ReadWholeFile(const std::string& path);

}  // namespace courier::it
