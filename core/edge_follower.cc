#include "edge_follower.h"

#include <algorithm>
#include <memory>

namespace courier::core {
namespace {

// The ReplyTag of a catch-up pull: which presence of the user it was made for.
struct CatchUpReply {
  uint64_t presence = 0;
};

uint64_t PresenceOf(const storage::PullRequest& req) {
  return req.reply ? static_cast<const CatchUpReply*>(req.reply.get())->presence : 0;
}

}  // namespace

void EdgeFollower::Present(const std::string& user, int64_t now_ms) {
  auto [it, added] = users_.try_emplace(user);
  if (!added) return;
  it->second.presence = next_presence_++;
  Schedule(user, it->second, now_ms);
}

void EdgeFollower::Absent(const std::string& user) {
  auto it = users_.find(user);
  if (it == users_.end()) return;
  if (!it->second.in_flight) due_.erase({it->second.due_ms, user});
  users_.erase(it);
}

bool EdgeFollower::Follows(std::string_view user) const { return users_.find(user) != users_.end(); }

int32_t EdgeFollower::Watermark(std::string_view user) const {
  auto it = users_.find(user);
  return it == users_.end() || !it->second.known ? -1 : it->second.watermark;
}

bool EdgeFollower::Claim(std::string_view user, int32_t offset) {
  auto it = users_.find(user);
  if (it == users_.end() || offset <= 0) return false;
  User& u = it->second;
  if (u.known && offset <= u.watermark) return false;
  if (!u.above.insert(offset).second) return false;
  Settle(u);
  return true;
}

void EdgeFollower::Hinted(std::string_view user, int64_t now_ms) {
  auto it = users_.find(user);
  if (it == users_.end()) return;
  User& u = it->second;
  if (u.in_flight) {
    u.hinted = true;  // taken up when the pull in flight returns
    return;
  }
  if (u.due_ms <= now_ms) return;
  due_.erase({u.due_ms, it->first});
  Schedule(it->first, u, now_ms);
}

std::vector<storage::PullRequest> EdgeFollower::Due(int64_t now_ms) {
  std::vector<storage::PullRequest> out;
  while (!due_.empty() && due_.begin()->first <= now_ms && out.size() < options_.max_pulls) {
    auto node = due_.extract(due_.begin());
    auto it = users_.find(node.value().second);
    if (it == users_.end()) continue;
    User& u = it->second;
    u.in_flight = true;
    out.push_back(storage::PullRequest{.user = it->first,
                                       .device = std::string(kDevice),
                                       .after = u.known ? u.watermark : 0,
                                       .limit = u.known ? options_.pull_limit : 0,
                                       .now_ms = now_ms,
                                       .reply = std::make_shared<const CatchUpReply>(CatchUpReply{u.presence})});
  }
  return out;
}

EdgeFollower::User* EdgeFollower::Match(const storage::PullRequest& req, Users::iterator* it) {
  *it = users_.find(req.user);
  if (*it == users_.end() || (*it)->second.presence != PresenceOf(req) || !(*it)->second.in_flight) return nullptr;
  return &(*it)->second;
}

std::vector<v1::Message> EdgeFollower::Caught(const storage::PullRequest& req, const storage::PullResult& res,
                                              int64_t now_ms) {
  std::vector<v1::Message> out;
  Users::iterator it;
  User* u = Match(req, &it);
  if (!u) return out;
  u->in_flight = false;
  bool more = false;
  if (!u->known) {
    // The first pull (limit 0) read the head: earlier entries are the client's own sync.
    u->known = true;
    u->watermark = res.head;
  } else {
    for (const v1::Message& e : res.entries) {
      const int32_t offset = e.signal_offset();
      if (offset > u->watermark && u->above.insert(offset).second) out.push_back(e);
    }
    // Every entry up to `reached` was returned, published before, or skipped as expired.
    u->watermark = std::max(u->watermark, res.reached);
    more = res.reached < res.head;
  }
  Settle(*u);
  // Hinted meanwhile, or more to read: at once.
  const int64_t next = more || u->hinted ? now_ms : now_ms + options_.catchup_ms;
  u->hinted = false;
  Schedule(it->first, *u, next);
  return out;
}

void EdgeFollower::Failed(const storage::PullRequest& req, int64_t now_ms) {
  Users::iterator it;
  User* u = Match(req, &it);
  if (!u) return;
  u->in_flight = false;
  u->hinted = false;
  Schedule(it->first, *u, now_ms + options_.catchup_ms);
}

void EdgeFollower::Schedule(const std::string& user, User& u, int64_t due_ms) {
  u.due_ms = due_ms;
  due_.emplace(due_ms, user);
}

void EdgeFollower::Settle(User& u) {
  if (!u.known) return;
  auto& above = u.above;
  above.erase(above.begin(), above.upper_bound(u.watermark));
  while (!above.empty() && *above.begin() == u.watermark + 1) {
    ++u.watermark;
    above.erase(above.begin());
  }
}

}  // namespace courier::core
