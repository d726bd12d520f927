#include "presence.h"

namespace courier::plugin {

void Presence::Connected(std::string_view user, std::string_view device, bool websocket) {
  std::lock_guard lock(mu_);
  connected_.emplace(std::string(user), std::string(device));
  if (websocket) websocket_.emplace(std::string(user), std::string(device));
}

void Presence::Disconnected(std::string_view user, std::string_view device) {
  std::lock_guard lock(mu_);
  connected_.erase({std::string(user), std::string(device)});
  websocket_.erase({std::string(user), std::string(device)});
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
