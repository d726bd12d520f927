// Push registrations and due pushes through the Engine and a real store, on
// every engine: a registration is answered and stored, a message to a
// registered user stores a due push per device in its own commit, a receipt
// clears it, and the admin API lists and removes registrations.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "flow_fixture.h"

namespace courier {
namespace {

using courier::testing::AsSignal;
using courier::testing::FlowTest;
using courier::testing::Msg;
using courier::testing::On;
using courier::v1::Message;
using courier::v1::Signal;

Signal Register(const std::string& app, const std::string& token) {
  Signal s;
  s.set_id("reg-1");
  s.set_type(1);
  s.mutable_push()->set_app(app);
  s.mutable_push()->set_token(token);
  return s;
}

class PushFlowTest : public FlowTest {
 protected:
  void SetUp() override {
    FlowTest::SetUp();
    core::CoreOptions o;
    o.push = true;
    o.admin_users = {"admin"};
    engine_ = core::Engine(o);
  }
  // The due pushes of the last Send, taken straight from the store.
  std::vector<storage::PushDue> SendAndCollect(const std::string& user, const Message& m) {
    core::Decision d = engine_.OnPublish(core::Inbound{.topic = "msg/" + user + "/send",
                                                       .payload = m.SerializeAsString(),
                                                       .user = user,
                                                       .client_id = "phone",
                                                       .now_ms = ++now_});
    for (auto& r : d.requests) store_->Submit(std::move(r));
    std::vector<storage::PushDue> out;
    for (const auto& c : store_->Flush()) {
      if (auto* r = std::get_if<storage::AppendResult>(&c.result)) out = r->pushes;
    }
    return out;
  }
  std::vector<storage::PushDue> Scan() {
    store_->Submit(storage::PushScanRequest{.after_key = {}, .limit = 100});
    auto done = store_->Flush();
    return std::get<storage::PushScanResult>(done.at(0).result).due;
  }
  nlohmann::json Admin(const std::string& command_json) {
    auto d = engine_.OnControl(core::Inbound{.topic = "$CONTROL/courier/v1",
                                             .payload = R"({"commands":[)" + command_json + "]}",
                                             .user = "admin",
                                             .client_id = "adm",
                                             .now_ms = now_});
    std::vector<core::Publish> out = d.publish;
    for (auto& r : d.requests) store_->Submit(std::move(r));
    for (const auto& c : store_->Flush()) {
      auto more = engine_.OnCompletion(c);
      out.insert(out.end(), more.begin(), more.end());
    }
    return out.empty() ? nlohmann::json() : nlohmann::json::parse(out.back().payload)["responses"][0];
  }
};

COURIER_STORE_ENGINES(PushFlowTest);

TEST_P(PushFlowTest, RegistrationIsAnsweredAndMessagesLeaveDuePushes) {
  auto out = Signals("bob", "tablet", Register("chat", "tok-tablet"));
  auto answer = On(out, "msg/bob/devices/tablet/events");
  ASSERT_EQ(answer.size(), 1u);
  Signal s = AsSignal(answer[0]);
  EXPECT_EQ(s.type(), 2);
  EXPECT_EQ(s.id(), "reg-1");
  EXPECT_EQ(s.push().app(), "chat");
  Signals("bob", "phone", Register("chat", "tok-phone"));

  auto due = SendAndCollect("alice", Msg("m1", "bob", "hi"));
  ASSERT_EQ(due.size(), 2u) << "one per registered device";
  EXPECT_EQ(due[0].device, "phone");
  EXPECT_EQ(due[0].token, "tok-phone");
  EXPECT_EQ(due[1].device, "tablet");
  EXPECT_EQ(due[0].offset, 1);
  EXPECT_EQ(due[0].id, "m1");
  EXPECT_EQ(due[0].from_user, "alice");
  EXPECT_EQ(due[0].undelivered, 1);
  EXPECT_TRUE(due[0].payload.empty()) << "no content unless push_payload";
  EXPECT_TRUE(SendAndCollect("bob", Msg("b1", "alice", "x")).empty()) << "alice registered nothing";
  EXPECT_EQ(Scan().size(), 2u) << "stored, so a restart sends them";

  // A device of bob received the entry: no push for any of his devices.
  Signals("bob", "phone", courier::testing::Receipt("m1", 1, false));
  EXPECT_TRUE(Scan().empty());
}

TEST_P(PushFlowTest, DoneAndUnregisterRemoveDuePushes) {
  Signals("bob", "phone", Register("chat", "tok"));
  Signals("bob", "tablet", Register("chat", "tok2"));
  SendAndCollect("alice", Msg("m1", "bob"));
  SendAndCollect("alice", Msg("m2", "bob"));
  store_->Submit(storage::PushDoneRequest{.done = {{"bob", "phone", 1}}, .unregister = {{"bob", "tablet", 0}}});
  store_->Flush();
  auto left = Scan();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].device, "phone");
  EXPECT_EQ(left[0].offset, 2);
  // An empty token unregisters too, with the device's due pushes.
  Signals("bob", "phone", Register("", ""));
  EXPECT_TRUE(Scan().empty());
  EXPECT_TRUE(SendAndCollect("alice", Msg("m3", "bob")).empty());
}

TEST_P(PushFlowTest, GroupPushesGoToRegisteredMembersOnly) {
  Admin(R"({"command":"createGroup","group":"team","members":["alice","bob","carol"]})");
  Signals("carol", "phone", Register("chat", "tok-carol"));
  Message g = Msg("g1", "", "hi team");
  g.mutable_to()->clear_user();
  g.mutable_to()->set_group("team");
  auto due = SendAndCollect("alice", g);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_EQ(due[0].user, "carol");
  EXPECT_EQ(due[0].group, "team");
}

TEST_P(PushFlowTest, AdminListsAndRemovesRegistrations) {
  Signals("bob", "phone", Register("chat", "tok"));
  SendAndCollect("alice", Msg("m1", "bob"));
  auto r = Admin(R"({"command":"listPushRegistrations","user":"bob"})");
  ASSERT_EQ(r["data"]["devices"].size(), 1u) << r.dump();
  EXPECT_EQ(r["data"]["devices"][0]["device"], "phone");
  EXPECT_EQ(r["data"]["devices"][0]["app"], "chat");
  EXPECT_EQ(r["data"]["devices"][0]["due"], 1);
  r = Admin(R"({"command":"removePushRegistration","user":"bob","device":"phone"})");
  EXPECT_FALSE(r.contains("error")) << r.dump();
  EXPECT_TRUE(Scan().empty());
  r = Admin(R"({"command":"removePushRegistration","user":"bob","device":"phone"})");
  EXPECT_TRUE(r.contains("error")) << r.dump();
  EXPECT_TRUE(Admin(R"({"command":"listPushRegistrations","user":"bob"})")["data"]["devices"].empty());
}

TEST_P(PushFlowTest, BadRegistrationIsAPermanentError) {
  auto out = Signals("bob", "phone", Register("", "token-without-app"));
  auto err = On(out, "msg/bob/devices/phone/events");
  ASSERT_EQ(err.size(), 1u);
  EXPECT_EQ(AsSignal(err[0]).type(), 3);
  EXPECT_EQ(AsSignal(err[0]).error().rfind("invalid_push_registration:", 0), 0u);
}

}  // namespace
}  // namespace courier
