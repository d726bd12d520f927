#include "topics.h"

namespace courier::core {

bool IsValidName(std::string_view name, size_t max_bytes) {
  if (name.empty() || name.size() > max_bytes) return false;
  // A plain loop: find_first_of calls memchr once per character, and this
  // runs for several names per message.
  for (char c : name) {
    if (c == '/' || c == '+' || c == '#' || c == '\0') return false;
  }
  return true;
}

TopicLevels TopicLevels::Rest() const {
  TopicLevels rest;
  for (size_t i = 1; i < kept_; ++i) rest.Add(levels_[i]);
  rest.size_ = size_ > 0 ? size_ - 1 : 0;
  return rest;
}

std::optional<TopicLevels> Topics::Levels(std::string_view topic) const {
  if (topic.size() <= prefix_.size() + 1 || topic.substr(0, prefix_.size()) != prefix_ ||
      topic[prefix_.size()] != '/') {
    return std::nullopt;
  }
  TopicLevels levels;
  std::string_view rest = topic.substr(prefix_.size() + 1);
  for (;;) {
    size_t slash = rest.find('/');
    levels.Add(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return levels;
}

std::optional<Topics::ParsedInbound> Topics::ParseInbound(std::string_view topic) const {
  auto levels = Levels(topic);
  if (!levels || levels->size() != 2 || (*levels)[0].empty()) return std::nullopt;
  if ((*levels)[1] == "send") return ParsedInbound{(*levels)[0], Inbound::kSend};
  if ((*levels)[1] == "signal") return ParsedInbound{(*levels)[0], Inbound::kSignal};
  return std::nullopt;
}

std::string Topics::Inbox(std::string_view user) const { return prefix_ + "/" + std::string(user) + "/inbox"; }
std::string Topics::Events(std::string_view user) const { return prefix_ + "/" + std::string(user) + "/events"; }
std::string Topics::DeviceInbox(std::string_view user, std::string_view device) const {
  return prefix_ + "/" + std::string(user) + "/devices/" + std::string(device) + "/inbox";
}
std::string Topics::DeviceEvents(std::string_view user, std::string_view device) const {
  return prefix_ + "/" + std::string(user) + "/devices/" + std::string(device) + "/events";
}

}  // namespace courier::core
