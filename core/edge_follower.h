// EdgeFollower: the bookkeeping by which one edge keeps the devices
// connected to it up to date with their users' logs when other edges
// append to them (docs/scale-out.md, "Cross-edge delivery").
//
// For every user with a device connected here (Present .. Absent) it keeps
// a watermark: the highest offset of the user's log this edge has published
// contiguously, plus the offsets above it it has published already (its own
// appends, copies forwarded by other edges: Claim). The watermark starts at
// the log's head when the user becomes present, read by a first catch-up
// pull of limit 0; what came before is the client's own sync (it pulls after
// subscribing, and its pull is submitted after that first one, so it sees
// at least that head). Every `catchup_ms`, and at once after a catch-up
// hint, Due() gives an ordinary PullRequest for the entries after the
// watermark; Caught() takes its result and returns the entries not
// published yet, which the shell publishes as a fresh delivery of that copy
// would be (Engine::LiveCopy). So a lost hint delays a stored copy by at
// most catchup_ms, and nothing is published twice by this edge.
//
// Catch-up pulls are marked by their device, kDevice, which no client can
// have (a name with '#'); with after >= 0 a pull reads no cursor. Their
// ReplyTag holds which presence of the user they were made for, so the
// result of a pull made before the user left and came back is ignored.
//
// Pure: no I/O, no clock (now_ms is passed in). Not thread-safe: the shell
// keeps it under a mutex. Never throws for any input but allocation failure.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "messaging.pb.h"
#include "requests.h"

namespace courier::core {

class EdgeFollower {
 public:
  struct Options {
    int64_t catchup_ms = 1000;  // between two catch-up pulls of a user
    uint32_t pull_limit = 100;  // entries per catch-up pull; more are pulled at once after
    size_t max_pulls = 1000;    // catch-up pulls one Due() call starts at most
  };
  static constexpr std::string_view kDevice = "#edge";

  explicit EdgeFollower(Options options) : options_(options) {}

  // The user's first device here connected; its first catch-up pull (the
  // head) is due at once. Nothing when the user is followed already.
  void Present(const std::string& user, int64_t now_ms);
  // The user's last device here left: its state goes.
  void Absent(const std::string& user);
  bool Follows(std::string_view user) const;
  size_t followed() const { return users_.size(); }

  // This edge publishes entry `offset` of `user`'s log. True when the user
  // is followed and the entry was not published yet (now it counts as
  // published); false otherwise.
  bool Claim(std::string_view user, int32_t offset);
  // A catch-up hint: the user's next catch-up pull is due at once.
  void Hinted(std::string_view user, int64_t now_ms);

  // Catch-up pulls to submit now (at most max_pulls), one per due user with
  // none in flight.
  std::vector<storage::PullRequest> Due(int64_t now_ms);
  static bool IsCatchUp(const storage::PullRequest& req) { return req.device == kDevice; }
  // The result of a pull from Due(): the entries to publish now, in offset
  // order, which count as published from now on.
  std::vector<v1::Message> Caught(const storage::PullRequest& req, const storage::PullResult& res, int64_t now_ms);
  // A pull from Due() failed: tried again after catchup_ms.
  void Failed(const storage::PullRequest& req, int64_t now_ms);

  // The watermark of a followed user (tests, stats); -1 before its head is known.
  int32_t Watermark(std::string_view user) const;

 private:
  struct User {
    uint64_t presence = 0;    // which Present() made this state
    bool known = false;       // the watermark was read (first pull done)
    int32_t watermark = 0;    // published contiguously up to here
    std::set<int32_t> above;  // published, above the watermark
    bool in_flight = false;   // a pull from Due() is out
    bool hinted = false;      // a catch-up hint came while it was out
    int64_t due_ms = 0;       // when the next pull is due (queued in due_ unless in flight)
  };
  using Users = std::map<std::string, User, std::less<>>;

  // The user's state if `req` was made for its current presence.
  User* Match(const storage::PullRequest& req, Users::iterator* it);
  void Schedule(const std::string& user, User& u, int64_t due_ms);
  static void Settle(User& u);

  Options options_;
  Users users_;
  std::set<std::pair<int64_t, std::string>> due_;  // (due_ms, user) of users not in flight
  uint64_t next_presence_ = 1;
};

}  // namespace courier::core
