// Requests and one-request calls shared by the store suite (tests/store,
// every engine) and the LMDB engine's own tests (storage/lmdb/*_test.cc):
//
//   Ident, Conv, Append, Receipt, Pull   request builders; 1:1 messages keyed
//                                        "c:<a>|<b>"
//   RequestCalls<Fixture>                Run (one request, one completion),
//                                        Appended, Receipted, Pulled, Log,
//                                        Offsets over the fixture's `store_`
//   FeatureCalls<Fixture>                Run, Ok<R>, Admin, CreateGroup,
//                                        Offsets, ToGroup ("g:<group>"),
//                                        ToUser ("u:<a>|<b>") over the
//                                        fixture's `store_`
//
// Threads: the test's main thread. Failures: gtest assertions.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "requests.h"
#include "store.h"

namespace courier::storage::testing {

inline courier::v1::Identity Ident(std::string user, std::string device = "") {
  courier::v1::Identity id;
  id.set_user(std::move(user));
  id.set_device(std::move(device));
  return id;
}

// Conversation key of a pair of users, as any caller may choose it.
inline std::string Conv(std::string a, std::string b) {
  if (b < a) std::swap(a, b);
  return "c:" + a + "|" + b;
}

inline AppendRequest Append(const std::string& sender, const std::string& to, const std::string& id,
                            const std::string& payload = "hello", const std::string& device = "phone") {
  AppendRequest r;
  r.sender = sender;
  if (to != sender) r.receivers.push_back(to);
  r.conversation = Conv(sender, to);
  r.message.set_id(id);
  *r.message.mutable_from() = Ident(sender, device);
  r.message.mutable_to()->set_user(to);
  r.message.set_payload(payload);
  r.message.set_server_timestamp(1000);
  r.message.mutable_signal_ack_state()->set_send(true);
  r.message.set_signal_offset_state(true);
  return r;
}

inline ReceiptRequest Receipt(const std::string& user, const std::string& device, int32_t offset, bool read) {
  return ReceiptRequest{.user = user, .device = device, .offset = offset, .received = true, .read = read};
}

inline PullRequest Pull(const std::string& user, const std::string& device, int32_t after, uint32_t limit) {
  return PullRequest{.user = user, .device = device, .after = after, .limit = limit};
}

// One request at a time, with its result checked, over Fixture's `store_`.
template <typename Fixture>
class RequestCalls : public Fixture {
 protected:
  // Submits one request, flushes, returns its completion.
  Completion Run(Request r) {
    this->store_->Submit(std::move(r));
    EXPECT_EQ(this->store_->pending(), 1u);
    auto done = this->store_->Flush();
    EXPECT_EQ(this->store_->pending(), 0u);
    EXPECT_EQ(done.size(), 1u);
    if (done.empty()) return Completion{PullRequest{}, Status::Invalid("no completion"), std::monostate{}};
    return std::move(done[0]);
  }
  template <typename R>
  R Result(Request r, const char* what) {
    Completion c = Run(std::move(r));
    EXPECT_TRUE(c.status.ok()) << c.status.ToString();
    auto* res = std::get_if<R>(&c.result);
    if (!res) {
      ADD_FAILURE() << "no " << what;
      return {};
    }
    return *res;
  }
  AppendResult Appended(AppendRequest r) { return Result<AppendResult>(std::move(r), "AppendResult"); }
  ReceiptResult Receipted(ReceiptRequest r) { return Result<ReceiptResult>(std::move(r), "ReceiptResult"); }
  PullResult Pulled(PullRequest r) { return Result<PullResult>(std::move(r), "PullResult"); }
  // All entries of `user`'s log.
  std::vector<courier::v1::Message> Log(const std::string& user) {
    return Pulled(Pull(user, "any", 0, 1'000'000)).entries;
  }

  static std::vector<int32_t> Offsets(const std::vector<courier::v1::Message>& entries) {
    std::vector<int32_t> v;
    for (const auto& m : entries) v.push_back(m.signal_offset());
    return v;
  }
};

// Groups, expiry, retention and admin, one request at a time, over
// Fixture's `store_` (any pointer to a Store).
template <typename Fixture>
class FeatureCalls : public Fixture {
 protected:
  using Kind = AdminOp::Kind;

  Completion Run(Request r) {
    this->store_->Submit(std::move(r));
    auto done = this->store_->Flush();
    EXPECT_EQ(done.size(), 1u);
    if (done.empty()) return Completion{PullRequest{}, Status::Invalid("none"), std::monostate{}};
    return std::move(done[0]);
  }
  template <typename R>
  R Ok(Request r) {
    Completion c = Run(std::move(r));
    EXPECT_TRUE(c.status.ok()) << c.status.ToString();
    auto* res = std::get_if<R>(&c.result);
    return res ? *res : R{};
  }
  AdminOpResult Admin(AdminOp op) {
    AdminRequest req;
    req.ops.push_back(std::move(op));
    auto res = Ok<AdminResult>(req);
    return res.results.empty() ? AdminOpResult{} : res.results[0];
  }
  void CreateGroup(const std::string& g, std::vector<std::string> members) {
    AdminOpResult r = Admin(AdminOp{
        .kind = Kind::kCreateGroup, .group = g, .user = {}, .members = members, .max_members = 10, .now_ms = 1});
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  }
  static AppendRequest ToGroup(const std::string& sender, const std::string& group, const std::string& id,
                               int64_t ts = 1000) {
    AppendRequest r;
    r.sender = sender;
    r.group = group;
    r.conversation = "g:" + group;
    r.message.set_id(id);
    *r.message.mutable_from() = Ident(sender, "phone");
    r.message.mutable_to()->set_group(group);
    r.message.set_payload("hi " + id);
    r.message.set_server_timestamp(ts);
    return r;
  }
  static AppendRequest ToUser(const std::string& sender, const std::string& to, const std::string& id,
                              int64_t ts = 1000, int64_t expires_ms = 0) {
    AppendRequest r;
    r.sender = sender;
    r.receivers = {to};
    r.conversation = "u:" + std::min(sender, to) + "|" + std::max(sender, to);
    r.message.set_id(id);
    *r.message.mutable_from() = Ident(sender, "phone");
    r.message.mutable_to()->set_user(to);
    r.message.set_payload("hi " + id);
    r.message.set_server_timestamp(ts);
    r.expires_ms = expires_ms;
    return r;
  }
  std::vector<int32_t> Offsets(const std::string& user, int64_t now_ms = 0) {
    auto res = Ok<PullResult>(PullRequest{.user = user, .device = "any", .after = 0, .limit = 1000, .now_ms = now_ms});
    std::vector<int32_t> v;
    for (const auto& m : res.entries) v.push_back(m.signal_offset());
    return v;
  }
};

}  // namespace courier::storage::testing
