// Who may publish to and read from Courier's topics. Pure: the plugin maps
// Mosquitto's ACL-check event onto CheckAccess and its verdict back.
//
// Topics outside the prefix are not Courier's business: kDefer hands them to
// the broker's other security (acl_file, dynamic security, ...).
#pragma once

#include <string_view>

#include "core_options.h"
#include "topics.h"

namespace courier::core {

enum class Access { kRead, kWrite, kSubscribe, kUnsubscribe };
enum class Verdict { kAllow, kDeny, kDefer };

// `user` is the MQTT username (may be empty), `client_id` the client id.
// For kSubscribe, `topic` is a filter and may hold wildcards.
Verdict CheckAccess(const Topics& topics, const CoreOptions& options, std::string_view user, std::string_view client_id,
                    std::string_view topic, Access access);

}  // namespace courier::core
