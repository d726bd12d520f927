#include "append_rules.h"

namespace courier::storage {
namespace {

// LMDB's key layouts (storage/lmdb/keys.h): a log key is the user, NUL and a
// 4-byte offset; an expiry key is an 8-byte time, a 6-byte body sequence, a
// 4-byte offset and the user; a dedup key is the sender, NUL and the id.
size_t LogKeySize(const std::string& user) { return user.size() + 5; }
size_t ExpiryKeySize(const std::string& user) { return 8 + 6 + 4 + user.size(); }
size_t DedupKeySize(const AppendRequest& r) { return r.sender.size() + 1 + r.message.id().size(); }

}  // namespace

bool ValidName(const std::string& s) { return !s.empty() && s.find('\0') == std::string::npos; }

Status CheckAppendNames(const AppendRequest& r, size_t max_key) {
  if (!ValidName(r.sender) || r.message.id().empty() || r.conversation.empty()) {
    return Status::Invalid("append needs a sender, an id and a conversation");
  }
  if (DedupKeySize(r) > max_key || r.conversation.size() > max_key || LogKeySize(r.sender) > max_key) {
    return Status::Invalid("names or id too long for the store's keys");
  }
  return Status::Ok();
}

bool ReplacedKeyFits(const AppendRequest& r, size_t max_key) {
  return r.sender.size() + 1 + r.message.replaces().size() <= max_key;
}

bool CursorNamesFit(const std::string& user, const std::string& device, size_t max_key) {
  return user.size() + 1 + device.size() <= max_key && LogKeySize(user) <= max_key;
}

Status CheckReceivers(const AppendRequest& r, const std::vector<std::string>& receivers, size_t max_key,
                      const std::function<int32_t(const std::string&)>& waiting) {
  for (const auto& u : receivers) {
    if (!ValidName(u) || u == r.sender || LogKeySize(u) > max_key || (r.expires_ms > 0 && ExpiryKeySize(u) > max_key)) {
      return Status::Invalid("bad receiver");
    }
  }
  if (r.max_undelivered > 0) {
    for (const auto& u : receivers) {
      const int32_t n = waiting(u);
      if (n >= static_cast<int64_t>(r.max_undelivered)) {
        return Status::Limit(u + " has " + std::to_string(n) + " undelivered entries");
      }
    }
  }
  return Status::Ok();
}

}  // namespace courier::storage
