// Launch: how one start of a server process the tests own went (Mosquitto,
// Postgres): accepting, exited early, timed out, or not spawned at all.
// Plain values, and the retry loops every server's start shares; nothing
// throws.
#pragma once

#include <chrono>
#include <functional>
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

// Up to `attempts` calls of `launch`, each after picking a new free loopback
// port into *port, until one accepts: another process may take a port
// between the pick and the server's bind. Returns the last launch.
Launch LaunchOnFreePort(int attempts, int* port, const std::function<Launch()>& launch);

// Up to `attempts` calls of `launch` on the same port, `pause` apart, until
// one accepts: the port of the process before may not be free yet.
Launch RelaunchOnPort(int attempts, std::chrono::milliseconds pause, const std::function<Launch()>& launch);

}  // namespace courier::proc
