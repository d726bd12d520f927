// Courier's topic names: P/{user}/send, P/{user}/signal, P/{user}/inbox,
// P/{user}/events, P/{user}/devices/{device}/inbox|events.
// Pure functions; no state beyond the prefix.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace courier::core {

// True when `name` can be one topic level: 1..max_bytes bytes, no '/', '+',
// '#' or NUL. Applies to user names, client ids and recipients.
bool IsValidName(std::string_view name, size_t max_bytes);

// The levels of a topic below the prefix, as views into the topic, without
// allocating: ACL checks run for every delivery. Courier's own topics have at
// most 4 levels below the prefix; only the first kCapacity levels are kept,
// size() counts them all, so a deeper topic is still seen as too deep.
class TopicLevels {
 public:
  static constexpr size_t kCapacity = 6;
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // i < the number of kept levels (min(size(), kCapacity)).
  std::string_view operator[](size_t i) const { return levels_[i]; }
  // The kept levels.
  const std::string_view* begin() const { return levels_.data(); }
  const std::string_view* end() const { return levels_.data() + kept_; }
  // The levels after the first (the user), as their own TopicLevels.
  TopicLevels Rest() const;
  void Add(std::string_view level) {
    if (kept_ < kCapacity) levels_[kept_++] = level;
    ++size_;
  }

 private:
  std::array<std::string_view, kCapacity> levels_{};
  size_t kept_ = 0;
  size_t size_ = 0;
};

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
  std::optional<TopicLevels> Levels(std::string_view topic) const;

  std::string Inbox(std::string_view user) const;
  std::string Events(std::string_view user) const;
  std::string DeviceInbox(std::string_view user, std::string_view device) const;
  std::string DeviceEvents(std::string_view user, std::string_view device) const;

  const std::string& prefix() const { return prefix_; }

 private:
  std::string prefix_;
};

}  // namespace courier::core
