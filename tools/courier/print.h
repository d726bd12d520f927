// One-line, grep-friendly text for Messages and Signals (format documented in
// tools/README.md). Pure functions returning strings without a trailing
// newline; safe to call from any thread.
#pragma once

#include <string>
#include <string_view>

#include "messaging.pb.h"

namespace courier::cli {

// `bytes` in double quotes: valid UTF-8 is kept, `"` and `\` are escaped,
// \n \r \t as such, every other control or invalid byte as \xNN.
std::string quote(std::string_view bytes);

// A key=value value: `s` as it is when it is non-empty printable ASCII
// without space, `"`, `\` or `=`; quote(s) otherwise.
std::string token(std::string_view s);

// "SENDER", "DEVICE", "RECEIVER", or the number for anything else.
std::string kind_name(int signal_type);

// "CHATTING" .. "NOTIFICATION", or the number for anything else.
std::string status_name(int status);

// `message offset=.. user_offset=.. from=.. to=.. kind=.. id=.. [...] "payload"`
std::string format_message(const v1::Message& m);

// `signal <what> key=value...`; see tools/README.md for every shape.
std::string format_signal(const v1::Signal& s);

}  // namespace courier::cli
