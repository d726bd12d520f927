#include "presence.h"

namespace courier::plugin {

namespace {

// Whether `set` holds a device of `user`.
bool AnyOf(const std::set<std::pair<std::string, std::string>>& set, const std::string& user) {
  auto it = set.lower_bound({user, std::string()});
  return it != set.end() && it->first == user;
}

}  // namespace

bool Presence::Connected(std::string_view user, std::string_view device, bool websocket) {
  std::lock_guard lock(mu_);
  std::string u(user);
  const bool first = !AnyOf(connected_, u);
  connected_.emplace(u, std::string(device));
  if (websocket) websocket_.emplace(u, std::string(device));
  return first;
}

bool Presence::Disconnected(std::string_view user, std::string_view device) {
  std::lock_guard lock(mu_);
  std::string u(user);
  if (connected_.erase({u, std::string(device)}) == 0) return false;
  websocket_.erase({u, std::string(device)});
  return !AnyOf(connected_, u);
}

bool Presence::IsConnected(const std::string& user, const std::string& device) const {
  std::lock_guard lock(mu_);
  return connected_.contains({user, device});
}

bool Presence::AnyWebSocket() const {
  std::lock_guard lock(mu_);
  return !websocket_.empty();
}

}  // namespace courier::plugin
