// The $CONTROL/courier/v1 admin API, in the shape of Mosquitto's dynamic
// security plugin: {"commands":[{"command":"...", ...}]} in,
// {"responses":[{"command":"...", "data":{...}|"error":"...",
// "correlationData":...}]} out. Pure JSON <-> request translation.
#pragma once

#include <string>
#include <string_view>

#include "core_options.h"
#include "requests.h"
#include "stats.h"

namespace courier::core {

inline constexpr std::string_view kAdminTopic = "$CONTROL/courier/v1";
inline constexpr std::string_view kAdminResponseTopic = "$CONTROL/courier/v1/response";

// The group conversation's user_offset counter key (shared with the engine).
std::string GroupConversation(std::string_view group);

// Turns a request payload from `client_id` into one AdminRequest, whose
// reply (an AdminReply, reply.h) holds the client and the command names.
// Commands that are malformed, unknown, or sent by a user not in
// admin_users get an error and no store operation (their op kind is kNone).
// Never throws.
storage::AdminRequest ParseAdminRequest(std::string_view payload, bool authorized, const CoreOptions& options,
                                        int64_t now_ms, std::string_view client_id);

// The response payload for `req` (built by ParseAdminRequest), with `result`
// (null when the request failed as a whole: then `failure` is every
// command's error).
std::string AdminResponse(const storage::AdminRequest& req, const storage::AdminResult* result,
                          std::string_view failure, const Stats* stats);

}  // namespace courier::core
