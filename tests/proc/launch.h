// Launch: how one start of a server process the tests own went (Mosquitto,
// Postgres): accepting, exited early, timed out, or not spawned at all.
// Plain values; nothing throws.
#pragma once

#include <chrono>
#include <string>

namespace courier::proc {

enum class LaunchOutcome {
  kAccepting,    // the server accepts connections (TCP, or libpq)
  kExited,       // the server exited before that (exit_status)
  kTimedOut,     // not accepting within start_timeout; the server was ended
  kSpawnFailed,  // fork failed, or no free port could be found (error)
};

struct Launch {
  LaunchOutcome outcome = LaunchOutcome::kSpawnFailed;
  int exit_status = -1;                // kExited: the waitpid status
  std::chrono::nanoseconds to_port{};  // kAccepting: from fork to the first accepted connection
  std::string error;                   // kSpawnFailed: why
  bool accepting() const { return outcome == LaunchOutcome::kAccepting; }
};

}  // namespace courier::proc
