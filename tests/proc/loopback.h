// Loopback TCP ports for processes the tests and the bench start.
// Plain functions, thread-safe; failures are return values, nothing throws.
#pragma once

#include <chrono>

namespace courier::proc {

// Binds 127.0.0.1:0 and closes it: a port that was free a moment ago (a
// racing process may take it; callers retry). 0 on failure.
int PickFreePort();
// True when 127.0.0.1:port accepts a TCP connection now.
bool PortAccepts(int port);
// Polls PortAccepts every 20 ms until it succeeds or `timeout` passes.
bool WaitForPort(int port, std::chrono::milliseconds timeout);

}  // namespace courier::proc
