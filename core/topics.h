// Courier's topic names: P/{user}/send, P/{user}/signal, P/{user}/inbox,
// P/{user}/events, P/{user}/devices/{device}/inbox|events.
// Pure functions; no state beyond the prefix.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace courier::core {

// True when `name` can be one topic level: 1..max_bytes bytes, no '/', '+',
// '#' or NUL. Applies to user names, client ids and recipients.
bool IsValidName(std::string_view name, size_t max_bytes);

class Topics {
 public:
  explicit Topics(std::string prefix) : prefix_(std::move(prefix)) {}

  enum class Inbound { kSend, kSignal };
  struct ParsedInbound {
    std::string_view user;
    Inbound kind;
  };
  // Parses P/{user}/send and P/{user}/signal; nullopt for anything else.
  std::optional<ParsedInbound> ParseInbound(std::string_view topic) const;

  // The levels after the prefix, when `topic` is below it; nullopt otherwise.
  std::optional<std::vector<std::string_view>> Levels(std::string_view topic) const;

  std::string Inbox(std::string_view user) const;
  std::string Events(std::string_view user) const;
  std::string DeviceInbox(std::string_view user, std::string_view device) const;
  std::string DeviceEvents(std::string_view user, std::string_view device) const;

  const std::string& prefix() const { return prefix_; }

 private:
  std::string prefix_;
};

}  // namespace courier::core
