// What Courier does with topics outside its prefix, decided once at load (and
// again at a config reload), and the log lines that say so.
//
// Mosquitto 2.0.11 (src/security.c, mosquitto_acl_check) asks the ACL_CHECK
// callbacks in registration order (plugins in the order of their `plugin`
// lines, then acl_file's check, which security_default.c registers after all
// plugins) and stops at the first answer that is not DEFER; when every
// callback defers the topic is denied, and with no callback at all it is
// allowed. So Courier's answer for a foreign topic:
//   - allow:  SUCCESS, the topic stays open even if an acl_file or a later
//             plugin would have refused it;
//   - defer:  the others decide; with no others the topic is now refused.
// `auto` picks allow exactly when the broker has no other access control
// (then the broker allowed everything before Courier came) and defer when
// it has some (then the others decided before, and still do). When the
// config cannot be read it defers: closing is logged, while opening a topic
// an unseen acl_file refuses would be silent.
//
// Pure: tested without a broker.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "broker_config.h"
#include "plugin_options.h"

namespace courier::plugin {

struct LogLine {
  bool warning = false;  // MOSQ_LOG_WARNING, else MOSQ_LOG_INFO
  std::string text;
};

struct OtherTopicsDecision {
  OtherTopics effective = OtherTopics::kDefer;  // never kAuto
  // The first line always says in one line what happens to topics outside
  // the prefix, and names plugin_opt_other_topics; more lines may follow
  // (e.g. another plugin answering first for the prefix).
  std::vector<LogLine> lines;
};

OtherTopicsDecision DecideOtherTopics(OtherTopics configured, const std::string& prefix,
                                      const std::variant<BrokerAccessControl, std::string>& scan);

}  // namespace courier::plugin
