// The flow fixture: the Engine and a real store together, no broker, on
// every engine (store_engine.h: the tests are TEST_Ps instantiated with
// COURIER_STORE_ENGINES). Each inbound publish goes through OnPublish ->
// Submit -> Flush -> OnCompletion, as the plugin's shell drives it, and the
// tests look at what would be published. Shared by flow_test.cc,
// edit_flow_test.cc and push_flow_test.cc. Ownership: the fixture owns its
// store site (directory or database) and the store. Threads: the test's main
// thread. Failures: gtest assertions.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine.h"
#include "store.h"
#include "store_engine.h"
#include "test_util.h"

namespace courier::testing {

using core::Publish;
using courier::v1::Message;
using courier::v1::Signal;

class FlowTest : public ::testing::TestWithParam<storage::testing::StoreEngine> {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    site_ = GetParam().make(std::string(info->test_suite_name()) + "_" + info->name());
    OpenStore();
  }
  void TearDown() override { store_.reset(); }

  // Opens the store of this test's site (again: a reopen).
  void OpenStore() {
    store_.reset();
    storage::Status s = site_->Open(&store_);
    ASSERT_TRUE(s.ok()) << GetParam().name << ": " << s.ToString();
  }

  // Everything one inbound publish causes: immediate publishes first, then
  // those of the completions, in order.
  std::vector<Publish> Inbound(const std::string& topic, const std::string& payload, const std::string& user,
                               const std::string& client) {
    core::Decision d = engine_.OnPublish(
        core::Inbound{.topic = topic, .payload = payload, .user = user, .client_id = client, .now_ms = ++now_});
    EXPECT_TRUE(d.consumed) << topic;
    std::vector<Publish> out = d.publish;
    for (auto& r : d.requests) store_->Submit(std::move(r));
    for (const auto& c : store_->Flush()) {
      auto more = engine_.OnCompletion(c);
      out.insert(out.end(), more.begin(), more.end());
    }
    EXPECT_EQ(store_->pending(), 0u);
    return out;
  }
  std::vector<Publish> Send(const std::string& user, const std::string& client, const Message& m) {
    return Inbound("msg/" + user + "/send", m.SerializeAsString(), user, client);
  }
  std::vector<Publish> Signals(const std::string& user, const std::string& client, const Signal& s) {
    return Inbound("msg/" + user + "/signal", s.SerializeAsString(), user, client);
  }

  core::Engine engine_{core::CoreOptions{}};
  courier::testing::TempDir dir_;  // for paths a test needs beside the store
  std::unique_ptr<storage::testing::StoreSite> site_;
  std::unique_ptr<storage::Store> store_;  // declared after site_: closed before the site goes
  int64_t now_ = 1'700'000'000'000;
};

inline std::vector<Publish> On(const std::vector<Publish>& out, std::string_view topic) {
  std::vector<Publish> v;
  for (const auto& p : out) {
    if (p.topic == topic) v.push_back(p);
  }
  return v;
}

// The SENDER ack in `out`, checked for shape; returns it.
inline Signal AckIn(const std::vector<Publish>& out, const std::string& user) {
  auto acks = On(out, "msg/" + user + "/events");
  EXPECT_EQ(acks.size(), 1u) << ::testing::PrintToString(TopicsOf(out));
  if (acks.empty()) return {};
  Signal s = AsSignal(acks[0]);
  EXPECT_EQ(s.type(), 2);
  EXPECT_EQ(s.signal_type(), 1);
  EXPECT_TRUE(s.signal_offset_state());
  EXPECT_TRUE(s.signal_ack_state().send());
  EXPECT_FALSE(s.has_error());
  return s;
}

}  // namespace courier::testing
