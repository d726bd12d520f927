// CheckSend: the argument checks a send passes before anything is published.
// Pure. Only what does not depend on the broker's configuration is checked
// here (a recipient that is missing, doubled or not one topic level, a
// priority above 15, an empty id, an edit or recall that cannot be one);
// sizes (payload_too_large, id_too_long, name lengths) follow the broker's
// plugin_opt_max_* options, so the server checks those and the send's result
// carries its code after one attempt.
//
// Returns the error code (the server's code for the same mistake,
// docs/protocol.md) and a detail, or nullopt when the send may go out.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "courier/client.h"
#include "session.h"

namespace courier::client::detail {

struct SendRefusal {
  std::string code;
  std::string detail;
};

std::optional<SendRefusal> CheckSend(const Outgoing& out, const SendOptions& o);

// A user, device or group name that can be one topic level: not empty, no
// '/', '+', '#' or NUL.
bool IsTopicLevel(const std::string& name);

}  // namespace courier::client::detail
