// One-line, grep-friendly text for what the client library reports (format
// documented in tools/README.md), and a line printer shared by the network
// thread and the main thread. Formatting functions are pure and safe to call
// from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "courier/client.h"

namespace courier::cli {

// `bytes` in double quotes: valid UTF-8 is kept, `"` and `\` are escaped,
// \n \r \t as such, every other control or invalid byte as \xNN.
std::string quote(std::string_view bytes);

// A key=value value: `s` as it is when it is non-empty printable ASCII
// without space, `"`, `\` or `=`; quote(s) otherwise.
std::string token(std::string_view s);

// "SENDER", "DEVICE", "RECEIVER", or the number for anything else.
std::string kind_name(client::Kind kind);

// "CHATTING" .. "NOTIFICATION", or the number for anything else.
std::string status_name(client::Status status);
// The inverse (case-insensitive), or a number 1..8; nullopt otherwise.
std::optional<client::Status> parse_status(std::string_view name);

// "read", "delivered", "sent" or "none".
std::string state_name(const client::AckState& s);

// `user/device`, or `user` when the device is empty.
std::string identity(const client::Identity& id);

// `message offset=.. user_offset=.. from=.. to=.. kind=.. id=.. [...] "payload"`
std::string format_message(const client::Message& m);
// `signal kind=KIND id=.. offset=.. user_offset=.. state=.. [from=..]`
std::string format_receipt(const client::Receipt& r);
// `signal activity from=.. [to=..] [group=..] status=..`
std::string format_activity(const client::Activity& a);
// `signal error id=.. error=".."` (permanent) or `signal transient id=.. error=".."`
std::string format_error(const client::ServerError& e);

// Writes one line to stdout and flushes, under a process-wide mutex so lines
// from different threads never interleave. False when stdout is gone.
bool emit(const std::string& line);
// The same for stderr.
void emit_err(const std::string& line);

}  // namespace courier::cli
