// RunProgram: runs a helper program (mdb_copy, mosquitto_passwd, ...) to
// completion for a test, on top of proc::Process (tests/proc), which ends
// it by pid when it overruns. Main test thread only; nothing throws.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "proc/read_file.h"

#include <gtest/gtest.h>

namespace courier::it {

// Runs argv (argv[0]: a path or a name looked up in PATH) for at most
// `timeout`; succeeds when it exited with status 0, otherwise the failure
// carries its stdout and stderr.
::testing::AssertionResult RunProgram(const std::vector<std::string>& argv, std::chrono::milliseconds timeout);

using courier::proc::ReadWholeFile;

}  // namespace courier::it
