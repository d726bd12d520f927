// Engine paths of groups, transient messages, expiry, priority and the admin
// API, without a store (completions are built by hand).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "admin.h"
#include "engine.h"
#include "reply.h"
#include "test_util.h"

namespace courier::core {
namespace {

using courier::testing::AsMessage;
using courier::testing::AsSignal;
using courier::testing::Msg;
using courier::v1::Message;
using courier::v1::Signal;
using json = nlohmann::json;

constexpr int64_t kNow = 1'700'000'000'000;

Inbound In(std::string_view topic, const std::string& payload, std::string_view user = "alice",
           std::string_view client = "phone") {
  return Inbound{.topic = topic, .payload = payload, .user = user, .client_id = client, .now_ms = kNow};
}

TEST(EngineFeatures, GroupSendBecomesAGroupAppend) {
  Engine e(CoreOptions{});
  Message m = Msg("g1", "");
  m.mutable_to()->set_group("family");
  std::string p = m.SerializeAsString();
  Decision d = e.OnPublish(In("msg/alice/send", p));
  ASSERT_EQ(d.requests.size(), 1u);
  auto& req = std::get<storage::AppendRequest>(d.requests[0]);
  EXPECT_EQ(req.group, "family");
  EXPECT_TRUE(req.receivers.empty());
  EXPECT_EQ(req.conversation, GroupConversation("family"));
  // Store refusals become the group codes.
  auto out = e.OnCompletion({req, storage::Status::NotFound("no group"), {}});
  EXPECT_EQ(AsSignal(out.at(0)).error().rfind("unknown_group: ", 0), 0u);
  out = e.OnCompletion({req, storage::Status::Forbidden("not a member"), {}});
  EXPECT_EQ(AsSignal(out.at(0)).error().rfind("not_member: ", 0), 0u);
  EXPECT_EQ(AsSignal(out.at(0)).type(), 3);
}

TEST(EngineFeatures, ExpiryDefaultsAndCap) {
  CoreOptions o;
  o.default_expiry_s = 60;
  o.max_expiry_s = 3600;
  Engine e(o);
  auto expiry_of = [&](uint32_t asked) {
    Message m = Msg("m", "bob");
    m.set_expiry(asked);
    std::string p = m.SerializeAsString();
    auto d = e.OnPublish(In("msg/alice/send", p));
    auto& r = std::get<storage::AppendRequest>(d.requests.at(0));
    EXPECT_EQ(r.expires_ms, kNow + int64_t{r.message.expiry()} * 1000);
    return r.message.expiry();
  };
  EXPECT_EQ(expiry_of(0), 60u);
  EXPECT_EQ(expiry_of(5), 5u);
  EXPECT_EQ(expiry_of(99999), 3600u);
  o.default_expiry_s = 0;
  o.max_expiry_s = 0;
  Engine never(o);
  Message m = Msg("m", "bob");
  std::string p = m.SerializeAsString();
  auto d = never.OnPublish(In("msg/alice/send", p));
  EXPECT_EQ(std::get<storage::AppendRequest>(d.requests.at(0)).expires_ms, 0);
}

TEST(EngineFeatures, TransientIsRelayedAtOnceAndNotStored) {
  Stats stats;
  Engine e(CoreOptions{}, &stats);
  Message m = Msg("t1", "bob");
  m.set_transient(true);
  std::string p = m.SerializeAsString();
  Decision d = e.OnPublish(In("msg/alice/send", p));
  EXPECT_TRUE(d.requests.empty());
  ASSERT_EQ(d.publish.size(), 2u);
  EXPECT_EQ(d.publish[0].topic, "msg/bob/inbox");
  Message copy = AsMessage(d.publish[0]);
  EXPECT_EQ(copy.signal_offset(), 0);
  EXPECT_EQ(copy.signal_type(), 3);
  EXPECT_EQ(copy.from().user(), "alice");
  EXPECT_TRUE(copy.transient());
  EXPECT_EQ(d.publish[1].topic, "msg/alice/events");
  Signal ack = AsSignal(d.publish[1]);
  EXPECT_EQ(ack.signal_type(), 1);
  EXPECT_TRUE(ack.signal_offset_state());
  EXPECT_EQ(ack.signal_offset(), 0);
  EXPECT_EQ(stats.relayed, 1u);

  // To a group: the members come from the store.
  m.mutable_to()->clear_user();
  m.mutable_to()->set_group("family");
  p = m.SerializeAsString();
  d = e.OnPublish(In("msg/alice/send", p));
  ASSERT_EQ(d.requests.size(), 1u);
  auto req = std::get<storage::MembersRequest>(d.requests[0]);
  EXPECT_FALSE(ReplyOf(req).is_activity);
  auto out = e.OnCompletion({req, storage::Status::Ok(), storage::MembersResult{{"alice", "bob", "carol"}}});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].topic, "msg/bob/inbox");
  EXPECT_EQ(out[1].topic, "msg/carol/inbox");
  EXPECT_EQ(out[2].topic, "msg/alice/events");
}

TEST(EngineFeatures, GroupActivityGoesToTheOtherMembers) {
  Engine e(CoreOptions{});
  Signal s = courier::testing::Activity("", 4);
  s.mutable_to()->set_group("family");
  std::string p = s.SerializeAsString();
  Decision d = e.OnPublish(In("msg/alice/signal", p));
  ASSERT_EQ(d.requests.size(), 1u);
  auto req = std::get<storage::MembersRequest>(d.requests[0]);
  auto out = e.OnCompletion({req, storage::Status::Ok(), storage::MembersResult{{"alice", "bob"}}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "msg/bob/events");
  EXPECT_EQ(AsSignal(out[0]).status(), 4);
  EXPECT_EQ(AsSignal(out[0]).to().group(), "family");
  EXPECT_EQ(AsSignal(out[0]).from().user(), "alice");
}

TEST(EngineFeatures, PullSendsHigherPriorityFirstKeepingOffsets) {
  Engine e(CoreOptions{});
  storage::PullRequest req{
      .user = "bob", .device = "phone", .after = 0, .limit = 10, .reply = MakeReply(SignalReply{"p"})};
  storage::PullResult res;
  res.head = 4;
  for (auto [offset, prio] : {std::pair{1, 5}, {2, 0}, {3, 5}, {4, 15}}) {
    Message m = Msg("m" + std::to_string(offset), "bob");
    m.set_signal_offset(offset);
    m.set_priority(prio);
    res.entries.push_back(m);
  }
  auto out = e.OnCompletion({req, storage::Status::Ok(), res});
  ASSERT_EQ(out.size(), 5u);
  std::vector<int32_t> order;
  for (size_t i = 0; i < 4; ++i) order.push_back(AsMessage(out[i]).signal_offset());
  EXPECT_EQ(order, (std::vector<int32_t>{2, 1, 3, 4}));
}

TEST(EngineFeatures, ExpiredCopiesAreToldToTheSender) {
  Stats stats;
  Engine e(CoreOptions{}, &stats);
  Message copy = Msg("m1", "bob");
  copy.mutable_from()->set_user("alice");
  copy.set_signal_offset(7);
  copy.set_user_offset(3);
  copy.set_expiry(1);
  storage::ExpireResult res;
  res.expired.push_back({"bob", copy, 4});
  auto out = e.OnCompletion({storage::ExpireRequest{}, storage::Status::Ok(), res});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "msg/alice/events");
  Signal s = AsSignal(out[0]);
  EXPECT_EQ(s.type(), 3);
  EXPECT_EQ(s.signal_type(), 3);
  EXPECT_EQ(s.id(), "m1");
  EXPECT_EQ(s.signal_offset(), 4);
  EXPECT_EQ(s.user_offset(), 3);
  EXPECT_EQ(s.from().user(), "bob");
  EXPECT_EQ(s.error().rfind("expired: ", 0), 0u);
  EXPECT_EQ(stats.expired, 1u);
}

TEST(EngineFeatures, HousekeepingAsksForExpiryAndRetentionWhenSet) {
  Engine e(CoreOptions{});
  EXPECT_EQ(e.Housekeeping(kNow, 0).size(), 1u);
  auto both = e.Housekeeping(kNow, 5000);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(std::get<storage::TrimRequest>(both[1]).older_than_ms, kNow - 5000);
}

TEST(EngineFeatures, GroupReceiptNoticeCarriesCounts) {
  Engine e(CoreOptions{});
  storage::ReceiptRequest req{
      .user = "bob", .device = "phone", .offset = 2, .received = true, .reply = MakeReply(SignalReply{"r"})};
  storage::ReceiptResult res;
  res.changed = true;
  res.entry = Msg("m1", "");
  res.entry.set_signal_offset(2);
  res.entry.mutable_signal_ack_state()->set_received(true);
  res.peer_user = "alice";
  res.peer = Msg("m1", "");
  res.peer->set_signal_offset(9);
  res.recipients = 3;
  res.received_count = 1;
  auto out = e.OnCompletion({req, storage::Status::Ok(), res});
  ASSERT_EQ(out.size(), 2u);
  Signal s = AsSignal(out[0]);
  EXPECT_EQ(out[0].topic, "msg/alice/events");
  EXPECT_EQ(s.signal_offset(), 9);
  EXPECT_EQ(s.recipients(), 3u);
  EXPECT_EQ(s.received_count(), 1u);
  EXPECT_EQ(s.read_count(), 0u);
  EXPECT_TRUE(s.signal_ack_state().received()) << "the member's own state";
  EXPECT_EQ(s.from().user(), "bob");
}

// ---------------------------------------------------------------- admin

class AdminTest : public ::testing::Test {
 protected:
  AdminTest() : engine_(Options(), &stats_) {}
  static CoreOptions Options() {
    CoreOptions o;
    o.admin_users = {"root"};
    return o;
  }
  Decision Ask(const std::string& body, std::string_view user = "root") {
    return engine_.OnControl(
        Inbound{.topic = kAdminTopic, .payload = body, .user = user, .client_id = "console", .now_ms = kNow});
  }
  static json Reply(const Publish& p) {
    EXPECT_EQ(p.topic, kAdminResponseTopic);
    EXPECT_EQ(p.client_id, "console");
    return json::parse(p.payload);
  }
  Stats stats_;
  Engine engine_;
};

TEST_F(AdminTest, CommandsBecomeOneStoreRequest) {
  Decision d = Ask(R"({"commands":[
      {"command":"createGroup","group":"g1","members":["alice","bob"],"correlationData":"c1"},
      {"command":"getGroup","group":"g1"},
      {"command":"getStats","correlationData":"c3"}]})");
  EXPECT_TRUE(d.publish.empty());
  ASSERT_EQ(d.requests.size(), 1u);
  auto req = std::get<storage::AdminRequest>(d.requests[0]);
  EXPECT_EQ(ReplyOf(req).client_id, "console");
  ASSERT_EQ(req.ops.size(), 3u);
  EXPECT_EQ(req.ops[0].kind, storage::AdminOp::Kind::kCreateGroup);
  EXPECT_EQ(req.ops[0].members, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(req.ops[0].max_members, 256u);
  EXPECT_EQ(req.ops[1].conversation, GroupConversation("g1"));

  storage::AdminResult res;
  res.results.resize(3);
  res.results[1].names = {"alice", "bob"};
  res.results[1].user_offset = 4;
  stats_.accepted = 5;
  stats_.heap_in_use_bytes = 123456;
  stats_.CountError(ErrorCode::kIdConflict);
  json r = Reply(engine_.OnCompletion({req, storage::Status::Ok(), res}).at(0));
  ASSERT_EQ(r["responses"].size(), 3u);
  EXPECT_EQ(r["responses"][0], json({{"command", "createGroup"}, {"correlationData", "c1"}}));
  EXPECT_EQ(r["responses"][1]["data"], json({{"group", "g1"}, {"members", {"alice", "bob"}}, {"userOffset", 4}}));
  EXPECT_EQ(r["responses"][2]["correlationData"], "c3");
  EXPECT_EQ(r["responses"][2]["data"]["accepted"], 5);
  EXPECT_EQ(r["responses"][2]["data"]["heapInUseBytes"], 123456);
  EXPECT_EQ(r["responses"][2]["data"]["errors"]["id_conflict"], 1);
}

TEST_F(AdminTest, StoreErrorsArePerCommand) {
  Decision d = Ask(R"({"commands":[{"command":"deleteGroup","group":"nope"},{"command":"listGroups"}]})");
  auto req = std::get<storage::AdminRequest>(d.requests.at(0));
  storage::AdminResult res;
  res.results.resize(2);
  res.results[0].status = storage::Status::NotFound("group 'nope' does not exist");
  res.results[1].names = {"a", "b"};
  json r = Reply(engine_.OnCompletion({req, storage::Status::Ok(), res}).at(0));
  EXPECT_EQ(r["responses"][0]["error"], "group 'nope' does not exist");
  EXPECT_EQ(r["responses"][1]["data"]["groups"], json({"a", "b"}));
}

TEST_F(AdminTest, NonAdminsGetAnErrorPerCommandAndTouchNothing) {
  Decision d = Ask(R"({"commands":[{"command":"listGroups"},{"command":"getStats"}]})", "alice");
  EXPECT_TRUE(d.requests.empty());
  ASSERT_EQ(d.publish.size(), 1u);
  json r = Reply(d.publish[0]);
  ASSERT_EQ(r["responses"].size(), 2u);
  for (const auto& x : r["responses"]) {
    EXPECT_EQ(x["error"], "not authorized");
    EXPECT_FALSE(x.contains("data"));
  }
}

TEST_F(AdminTest, OnlyListedUsersAreAdmins) {
  EXPECT_TRUE(engine_.IsAdmin("root"));
  EXPECT_FALSE(engine_.IsAdmin("alice"));
  EXPECT_FALSE(engine_.IsAdmin("roo"));
  EXPECT_FALSE(engine_.IsAdmin(""));
}

TEST_F(AdminTest, MalformedRequestsAreAnsweredNotCrashed) {
  for (const char* body :
       {"", "not json", "[]", R"({"commands":5})", R"({"commands":[5]})", R"({"commands":[{"command":"fly"}]})",
        R"({"commands":[{}]})", R"({"commands":[{"command":"createGroup","group":"a/b"}]})",
        R"({"commands":[{"command":"createGroup","group":"g","members":[1]}]})",
        R"({"commands":[{"command":"getUser"}]})"}) {
    Decision d = Ask(body);
    ASSERT_TRUE(d.requests.empty()) << body;
    ASSERT_EQ(d.publish.size(), 1u) << body;
    json r = Reply(d.publish[0]);
    ASSERT_FALSE(r["responses"].empty()) << body;
    EXPECT_TRUE(r["responses"][0].contains("error")) << body;
  }
}

TEST_F(AdminTest, WholeRequestFailureAnswersEveryCommand) {
  Decision d = Ask(R"({"commands":[{"command":"listGroups"}]})");
  auto req = std::get<storage::AdminRequest>(d.requests.at(0));
  json r = Reply(engine_.OnCompletion({req, storage::Status::IoError("disk"), {}}).at(0));
  EXPECT_EQ(r["responses"][0]["error"], "io error: disk");
}

}  // namespace
}  // namespace courier::core
