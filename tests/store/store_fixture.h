// The fixtures of the store suite: each test gets a fresh store of the
// engine it is instantiated for (store_engine.h), talks to it only through
// storage::Store, and may reopen it (Close(), Open()) to check what is kept.
//
//   EngineTest         the site and the store, Open() and Close()
//   StoreTest          one request at a time (Run, Appended, Receipted,
//                      Pulled), 1:1 messages keyed "c:<a>|<b>"
//   StoreFeaturesTest  groups, expiry, retention and admin (Ok<R>, Admin,
//                      CreateGroup), messages keyed "u:<a>|<b>" and "g:<group>"
//
// Ownership: each test owns its site and its store (closed before the site
// goes). Threads: the test's main thread. Failures: gtest assertions.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "requests.h"
#include "store.h"
#include "store_engine.h"

namespace courier::storage::testing {

using courier::v1::Message;
using V = std::vector<int32_t>;

inline courier::v1::Identity Ident(std::string user, std::string device = "") {
  courier::v1::Identity id;
  id.set_user(std::move(user));
  id.set_device(std::move(device));
  return id;
}

class EngineTest : public ::testing::TestWithParam<StoreEngine> {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    site_ = GetParam().make(std::string(info->test_suite_name()) + "_" + info->name());
    Open();
  }
  void TearDown() override { Close(); }
  void Open() {
    store_.reset();
    Status s = site_->Open(&store_);
    ASSERT_TRUE(s.ok()) << GetParam().name << ": " << s.ToString();
    ASSERT_NE(store_, nullptr);
  }
  void Close() { store_.reset(); }

  std::unique_ptr<StoreSite> site_;
  std::unique_ptr<Store> store_;  // declared after site_: closed before the site goes
};

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

class StoreTest : public EngineTest {
 protected:
  // Submits one request, flushes, returns its completion.
  Completion Run(Request r) {
    store_->Submit(std::move(r));
    EXPECT_EQ(store_->pending(), 1u);
    auto done = store_->Flush();
    EXPECT_EQ(store_->pending(), 0u);
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
  std::vector<Message> Log(const std::string& user) { return Pulled(Pull(user, "any", 0, 1'000'000)).entries; }

  static std::vector<int32_t> Offsets(const std::vector<Message>& entries) {
    std::vector<int32_t> v;
    for (const auto& m : entries) v.push_back(m.signal_offset());
    return v;
  }
};

class StoreFeaturesTest : public EngineTest {
 protected:
  using Kind = AdminOp::Kind;

  Completion Run(Request r) {
    store_->Submit(std::move(r));
    auto done = store_->Flush();
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
