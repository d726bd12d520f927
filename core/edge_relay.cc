#include "edge_relay.h"

#include <optional>
#include <string_view>

namespace courier::core {
namespace {

struct UserTopic {
  std::string_view user;
  EdgeHint::Kind kind;
};

// P/{user}/inbox or P/{user}/events; nullopt for any other topic.
std::optional<UserTopic> ParseUserTopic(const Topics& topics, std::string_view topic) {
  auto levels = topics.Levels(topic);
  if (!levels || levels->size() != 2) return std::nullopt;
  if ((*levels)[1] == "inbox") return UserTopic{(*levels)[0], EdgeHint::Kind::kInbox};
  if ((*levels)[1] == "events") return UserTopic{(*levels)[0], EdgeHint::Kind::kEvents};
  return std::nullopt;
}

}  // namespace

std::vector<EdgeHint> HintsOf(const Topics& topics, const std::vector<Publish>& publishes) {
  std::vector<EdgeHint> out;
  for (const Publish& p : publishes) {
    if (!p.client_id.empty()) continue;
    auto t = ParseUserTopic(topics, p.topic);
    if (!t) continue;
    out.push_back(EdgeHint{.kind = t->kind,
                           .user = std::string(t->user),
                           .offset = t->kind == EdgeHint::Kind::kInbox ? p.log_offset : 0,
                           .qos = p.qos,
                           .payload = p.payload});
  }
  return out;
}

void ClaimOwn(const std::vector<Publish>& publishes, const Topics& topics, EdgeFollower* follower) {
  for (const Publish& p : publishes) {
    if (p.log_offset <= 0 || !p.client_id.empty()) continue;
    auto t = ParseUserTopic(topics, p.topic);
    if (t && t->kind == EdgeHint::Kind::kInbox) follower->Claim(t->user, p.log_offset);
  }
}

std::vector<Publish> PublishesOf(const Topics& topics, const std::vector<EdgeHint>& hints, EdgeFollower* follower,
                                 int64_t now_ms) {
  std::vector<Publish> out;
  for (const EdgeHint& h : hints) {
    if (!follower->Follows(h.user)) continue;
    switch (h.kind) {
      case EdgeHint::Kind::kCatchUp: follower->Hinted(h.user, now_ms); break;
      case EdgeHint::Kind::kInbox:
        if (h.offset > 0 && !follower->Claim(h.user, h.offset)) break;
        out.push_back({topics.Inbox(h.user), h.payload, {}, h.qos, h.offset});
        break;
      case EdgeHint::Kind::kEvents: out.push_back({topics.Events(h.user), h.payload, {}, h.qos, 0}); break;
    }
  }
  return out;
}

}  // namespace courier::core
