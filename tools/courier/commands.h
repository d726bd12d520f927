// The CLI's commands. Each run_* does its work and returns a process exit
// code (documented in tools/README.md). The commands that talk to the
// broker use the client library (clients/cpp/include/courier/client.h), except
// `admin`, which speaks the $CONTROL JSON API over a plain MQTT session
// (connection.h); `inspect` reads a store directory and never connects.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "courier/client.h"

namespace courier::cli {

// Process exit codes (documented in tools/README.md).
enum Exit : int {
  kExitOk = 0,
  kExitUsage = 1,
  kExitConnection = 2,  // cannot connect, refused for good, client id taken over
  kExitRejected = 3,    // the server said no for good: ERROR signal, admin error, not authorized
  kExitTimeout = 4,     // no final answer before --timeout
  kExitInternal = 5,    // anything unexpected
  kExitStore = 6,       // inspect, migrate: the store cannot be opened or is not a Courier store
};

// Connection options shared by every command that connects.
struct CommonOptions {
  client::Options client;  // host, port, user, password, device, tls, prefix
};

// Who a message or activity goes to: a user or a group.
struct Target {
  std::string user;
  std::string group;
  bool empty() const { return user.empty() && group.empty(); }
};

struct SendOptions {
  CommonOptions common;
  Target to;
  std::string id;    // empty: random
  std::string text;  // payload bytes
  uint32_t type = 0;
  uint32_t expiry = 0;
  uint32_t priority = 0;
  bool transient = false;
  std::string edit;       // id of a message of ours to change to TEXT
  std::string recall;     // id of a message of ours to take back (no TEXT)
  double timeout_s = 10;  // overall limit, connection included
};

// listen and sync.
struct ListenOptions {
  CommonOptions common;
  bool ack = false;                 // send a `received` receipt for each RECEIVER message
  bool read = false;                // send a `read` receipt instead
  bool until_synced = false;        // sync: exit once the log's head is reached
  std::optional<int64_t> count;     // exit after this many message lines
  std::optional<double> timeout_s;  // exit after this long
};

struct ReadOptions {
  CommonOptions common;
  std::vector<int32_t> offsets;
  bool read = true;  // false: `received` only
  double timeout_s = 10;
};

struct TypingOptions {
  CommonOptions common;
  Target to;
  client::Status status = client::Status::kTyping;
  double timeout_s = 10;
};

struct ChatOptions {
  CommonOptions common;
  Target with;
  bool mark_read = true;  // mark incoming messages read (else received)
  double timeout_s = 10;  // at the end of input: how long to wait for pending sends
};

struct AdminOptions {
  CommonOptions common;
  std::string request;      // the JSON request ({"commands":[...]})
  std::string command;      // its command name, to find the response
  std::string correlation;  // its correlationData
  bool pretty = false;
  double timeout_s = 10;
};

struct InspectOptions {
  std::string path;              // the store directory (plugin_opt_db_path)
  std::string pg;                // or: a PostgreSQL store's conninfo
  std::string user;              // only this user's rows; empty: all
  bool entries = true;           // print log entries
  std::optional<int64_t> limit;  // at most this many entries per user (the newest)
};

int run_send(const SendOptions& options);
int run_listen(const ListenOptions& options);
int run_read(const ReadOptions& options);
int run_typing(const TypingOptions& options);
int run_chat(const ChatOptions& options);
int run_admin(const AdminOptions& options);
int run_inspect(const InspectOptions& options);

struct PushGatewayOptions {
  std::string host = "127.0.0.1";
  int port = 8787;     // 0: a free one
  std::string secret;  // plugin_opt_push_secret: calls without a valid signature get 401
  int status = 200;    // the answer to every call (410: "token gone")
};
int run_push_gateway(const PushGatewayOptions& options);

}  // namespace courier::cli
