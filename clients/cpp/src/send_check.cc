#include "send_check.h"

namespace courier::client::detail {

bool IsTopicLevel(const std::string& name) {
  return !name.empty() && name.find_first_of(std::string("/+#\0", 4)) == std::string::npos;
}

std::optional<SendRefusal> CheckSend(const Outgoing& out, const SendOptions& o) {
  const bool user = !out.to.user.empty(), group = !out.to.group.empty();
  if (!user && !group) return SendRefusal{"missing_recipient", "to names no user and no group"};
  if (user && group) return SendRefusal{"invalid_recipient", "to names both a user and a group"};
  const std::string& name = user ? out.to.user : out.to.group;
  if (!IsTopicLevel(name)) {
    return SendRefusal{"invalid_recipient", (user ? "user '" : "group '") + name + "' cannot be a topic level"};
  }
  if (o.id.empty()) return SendRefusal{"missing_id", "a send needs an id"};
  if (o.priority > 15) return SendRefusal{"invalid_priority", "priority must be 0..15"};
  if (!out.replaces.empty()) {
    if (out.replaces == o.id) return SendRefusal{"invalid_edit", "a message cannot replace itself"};
    if (o.transient) return SendRefusal{"invalid_edit", "an edit cannot be transient"};
  }
  if (out.recall) {
    if (out.replaces.empty()) return SendRefusal{"invalid_edit", "a recall needs the id it takes back"};
    if (!out.payload.empty() || !o.encrypted.empty() || !o.signature.empty()) {
      return SendRefusal{"recall_has_content", "a recall carries no payload"};
    }
  }
  return std::nullopt;
}

}  // namespace courier::client::detail
