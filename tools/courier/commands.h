// The CLI's commands. Each run_* connects, does its work, disconnects and
// returns a process exit code; it throws ConnectionError (exit 2) when the
// broker cannot be reached or refuses the session. Single-threaded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "connection.h"

namespace courier::cli {

// Process exit codes (documented in tools/README.md).
enum Exit : int {
  kExitOk = 0,
  kExitUsage = 1,
  kExitConnection = 2,  // cannot connect, refused, subscription refused, connection lost
  kExitRejected = 3,    // the server rejected the message for good (ERROR signal)
  kExitTimeout = 4,     // no final answer before --timeout
  kExitInternal = 5,    // anything unexpected
};

struct CommonOptions {
  SessionOptions session;       // host, port, user, password, client id
  std::string prefix = "msg";   // topic prefix P
};

struct SendOptions {
  CommonOptions common;
  std::string to;               // receiving user
  std::string id;               // empty: random
  std::string text;             // payload bytes
  double timeout_s = 10;        // overall limit, connection included
};

struct ListenOptions {
  CommonOptions common;
  bool ack = false;             // send a `received` receipt for each RECEIVER message
  bool read = false;            // send a `read` receipt instead
  bool pull = false;            // pull the backlog after subscribing
  bool raw = false;             // print duplicate copies too
  std::optional<int64_t> count; // exit after this many message lines
  std::optional<double> timeout_s;  // exit after this long
};

int run_send(const SendOptions& options);
int run_listen(const ListenOptions& options);

}  // namespace courier::cli
