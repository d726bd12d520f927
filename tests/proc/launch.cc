#include "launch.h"

#include <thread>

#include "loopback.h"

namespace courier::proc {

Launch LaunchOnFreePort(int attempts, int* port, const std::function<Launch()>& launch) {
  Launch last;
  last.error = "not started";
  for (int attempt = 0; attempt < attempts; ++attempt) {
    *port = PickFreePort();
    if (*port == 0) continue;
    last = launch();
    if (last.accepting()) break;
  }
  return last;
}

Launch RelaunchOnPort(int attempts, std::chrono::milliseconds pause, const std::function<Launch()>& launch) {
  Launch last;
  last.error = "not restarted";
  for (int attempt = 0; attempt < attempts; ++attempt) {
    last = launch();
    if (last.accepting()) break;
    std::this_thread::sleep_for(pause);
  }
  return last;
}

}  // namespace courier::proc
