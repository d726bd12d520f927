#include "acl.h"

#include "admin.h"

namespace courier::core {
namespace {

// The topics a device reads: its user's inbox and events, and its own
// device topics. `levels` are the levels after the prefix, user excluded.
bool Readable(const TopicLevels& rest, std::string_view client_id) {
  if (rest.size() == 1) return rest[0] == "inbox" || rest[0] == "events";
  return rest.size() == 3 && rest[0] == "devices" && rest[1] == client_id &&
         (rest[2] == "inbox" || rest[2] == "events");
}

// A subscription filter below the user's own level may use wildcards as long
// as the device level, when reached, is the client's own id.
bool SubscribableFilter(const TopicLevels& rest, std::string_view client_id) {
  if (rest.empty()) return false;
  if (rest[0] == "#") return true;  // deliveries are still checked one by one
  if (rest.size() == 1) return rest[0] == "inbox" || rest[0] == "events" || rest[0] == "+";
  if (rest[0] != "devices" && rest[0] != "+") return false;
  if (rest[1] != client_id) return false;
  if (rest.size() == 2) return false;
  if (rest.size() == 3) return rest[2] == "inbox" || rest[2] == "events" || rest[2] == "+" || rest[2] == "#";
  return false;
}

}  // namespace

Verdict CheckAccess(const Topics& topics, const CoreOptions& options, std::string_view user, std::string_view client_id,
                    std::string_view topic, Access access) {
  // The admin API: anyone with a name may ask (non-admins get an error
  // reply); replies go to the asking client only, so the reply topic is open.
  if (topic == kAdminTopic || topic == kAdminResponseTopic) {
    if (access == Access::kUnsubscribe) return Verdict::kAllow;
    if (!IsValidName(user, options.max_name_bytes)) return Verdict::kDeny;
    const bool asks = topic == kAdminTopic && access == Access::kWrite;
    const bool listens = topic == kAdminResponseTopic && access != Access::kWrite;
    return asks || listens ? Verdict::kAllow : Verdict::kDeny;
  }
  auto levels = topics.Levels(topic);
  if (!levels) return Verdict::kDefer;
  if (access == Access::kUnsubscribe) return Verdict::kAllow;
  if (!IsValidName(user, options.max_name_bytes) || !IsValidName(client_id, options.max_name_bytes)) {
    return Verdict::kDeny;
  }
  if ((*levels)[0] != user) return Verdict::kDeny;  // also refuses '+' and '#' here
  const TopicLevels rest = levels->Rest();
  switch (access) {
    case Access::kWrite:
      return rest.size() == 1 && (rest[0] == "send" || rest[0] == "signal") ? Verdict::kAllow : Verdict::kDeny;
    case Access::kRead: return Readable(rest, client_id) ? Verdict::kAllow : Verdict::kDeny;
    case Access::kSubscribe: return SubscribableFilter(rest, client_id) ? Verdict::kAllow : Verdict::kDeny;
    case Access::kUnsubscribe: break;
  }
  return Verdict::kAllow;
}

}  // namespace courier::core
