// Presence: which devices (user, client id) are connected to this broker.
// Mosquitto 2.0 has no connect event, so a device counts as connected from
// its first subscription to one of its user's Courier topics (the ACL
// check) until its disconnect event. A client that resumes a persistent
// session without subscribing again is not seen until it subscribes.
//
// It also knows whether any of them came over WebSockets: the plugin's
// publishes then need the loop kicked (loop_kicker.h).
//
// Threads: Connected and Disconnected run on the broker thread;
// IsConnected and AnyWebSocket may run on any thread (the push sender's).
// Connected and Disconnected also say whether the user's first device came
// or its last one left.
// All take a mutex.
#pragma once

#include <set>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace courier::plugin {

class Presence {
 public:
  // True when this is the user's first device here (cross-edge delivery
  // starts following the user: plugin/edge_delivery.h).
  bool Connected(std::string_view user, std::string_view device, bool websocket);
  // True when the user has no device here any more.
  bool Disconnected(std::string_view user, std::string_view device);
  bool IsConnected(const std::string& user, const std::string& device) const;
  bool AnyWebSocket() const;

 private:
  mutable std::mutex mu_;
  std::set<std::pair<std::string, std::string>> connected_;
  std::set<std::pair<std::string, std::string>> websocket_;  // a subset of connected_
};

}  // namespace courier::plugin
