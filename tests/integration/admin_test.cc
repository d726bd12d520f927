// The admin API: JSON {"commands":[...]} on $CONTROL/courier/v1,
// answered with {"responses":[...]} on $CONTROL/courier/v1/response to the
// asking client only, in the shape of Mosquitto's dynamic security plugin.
// Only users listed in plugin_opt_admin_users may use it.
#include <gtest/gtest.h>

#include <set>

#include "support/feature_fixture.h"

namespace courier::it {
namespace {

using json = nlohmann::json;

class AdminTest : public FeatureTest {
 protected:
  // Commas and spaces both separate names.
  std::string AdminUsers() const override { return "admin,ops  root"; }
  Opts ExtraOptions() const override { return {{"max_group_members", "3"}}; }

  // The single response to one command with correlation data `c`.
  json One(const json& command, const std::string& c) {
    json cmd = command;
    cmd["correlationData"] = c;
    auto r = Admin()->Command(cmd);
    if (!r) {
      ADD_FAILURE() << "no reply to " << cmd.dump();
      return json();
    }
    return *r;
  }

  // Checks an error response: exactly command, correlationData and a
  // non-empty error containing `part`.
  static void ExpectError(const json& r, const std::string& command, const std::string& c, const std::string& part) {
    ASSERT_TRUE(r.is_object()) << r.dump();
    EXPECT_EQ(r.size(), 3u) << r.dump();
    EXPECT_EQ(r.value("command", ""), command) << r.dump();
    EXPECT_EQ(r.value("correlationData", ""), c) << r.dump();
    ASSERT_TRUE(r.contains("error") && r["error"].is_string()) << r.dump();
    EXPECT_NE(r["error"].get<std::string>().find(part), std::string::npos)
        << "error should mention '" << part << "': " << r.dump();
    EXPECT_FALSE(r.contains("data")) << r.dump();
  }
};

TEST_F(AdminTest, GroupCommandsRoundTrip) {
  ASSERT_TRUE(Admin());
  // createGroup
  EXPECT_EQ(One({{"command", "createGroup"}, {"group", "g1"}, {"members", {"alice", "bob", "carol"}}}, "c1"),
            json::parse(R"({"command":"createGroup","correlationData":"c1"})"));
  ExpectError(One({{"command", "createGroup"}, {"group", "g1"}, {"members", {"alice"}}}, "c2"), "createGroup", "c2",
              "g1");
  ExpectError(One({{"command", "createGroup"}, {"group", "big"}, {"members", {"a", "b", "c", "d"}}}, "c3"),
              "createGroup", "c3", "3");
  ExpectError(One({{"command", "createGroup"}, {"group", "bad/name"}}, "c4"), "createGroup", "c4", "group");
  EXPECT_EQ(One({{"command", "createGroup"}, {"group", "g0"}}, "c5"),
            json::parse(R"({"command":"createGroup","correlationData":"c5"})"));
  // listGroups, getGroup
  EXPECT_EQ(One({{"command", "listGroups"}}, "l1"),
            json::parse(R"({"command":"listGroups","correlationData":"l1","data":{"groups":["g0","g1"]}})"));
  EXPECT_EQ(One({{"command", "getGroup"}, {"group", "g1"}}, "g1"),
            json::parse(R"({"command":"getGroup","correlationData":"g1",
                            "data":{"group":"g1","members":["alice","bob","carol"],"userOffset":0}})"));
  ExpectError(One({{"command", "getGroup"}, {"group", "nosuch"}}, "g2"), "getGroup", "g2", "nosuch");

  // Two messages to the group move its userOffset.
  auto* a1 = Online("alice", "a1");
  ASSERT_TRUE(a1);
  ASSERT_TRUE(SendAndWaitAck(*a1, GroupMessage("m1", "g1", "x")));
  ASSERT_TRUE(SendAndWaitAck(*a1, GroupMessage("m2", "g1", "y")));
  EXPECT_EQ(One({{"command", "getGroup"}, {"group", "g1"}}, "g3"),
            json::parse(R"({"command":"getGroup","correlationData":"g3",
                            "data":{"group":"g1","members":["alice","bob","carol"],"userOffset":2}})"));

  // addGroupMember / removeGroupMember, with the size limit (3).
  ExpectError(One({{"command", "addGroupMember"}, {"group", "g1"}, {"user", "dave"}}, "a1"), "addGroupMember", "a1",
              "3");
  EXPECT_EQ(One({{"command", "removeGroupMember"}, {"group", "g1"}, {"user", "carol"}}, "r1"),
            json::parse(R"({"command":"removeGroupMember","correlationData":"r1"})"));
  ExpectError(One({{"command", "removeGroupMember"}, {"group", "g1"}, {"user", "carol"}}, "r2"), "removeGroupMember",
              "r2", "carol");
  EXPECT_EQ(One({{"command", "addGroupMember"}, {"group", "g1"}, {"user", "dave"}}, "a2"),
            json::parse(R"({"command":"addGroupMember","correlationData":"a2"})"));
  ExpectError(One({{"command", "addGroupMember"}, {"group", "nosuch"}, {"user", "dave"}}, "a3"), "addGroupMember", "a3",
              "nosuch");
  ExpectError(One({{"command", "addGroupMember"}, {"group", "g1"}}, "a4"), "addGroupMember", "a4", "user");
  EXPECT_EQ(One({{"command", "getGroup"}, {"group", "g1"}}, "g4"),
            json::parse(R"({"command":"getGroup","correlationData":"g4",
                            "data":{"group":"g1","members":["alice","bob","dave"],"userOffset":2}})"));

  // deleteGroup
  EXPECT_EQ(One({{"command", "deleteGroup"}, {"group", "g1"}}, "d1"),
            json::parse(R"({"command":"deleteGroup","correlationData":"d1"})"));
  ExpectError(One({{"command", "deleteGroup"}, {"group", "g1"}}, "d2"), "deleteGroup", "d2", "g1");
  EXPECT_EQ(One({{"command", "listGroups"}}, "l2"),
            json::parse(R"({"command":"listGroups","correlationData":"l2","data":{"groups":["g0"]}})"));
  ExpectError(One({{"command", "getGroup"}, {"group", "g1"}}, "g5"), "getGroup", "g5", "g1");
  // The deleted group is unknown to senders.
  ASSERT_TRUE(a1->Send(GroupMessage("m3", "g1", "z")));
  EXPECT_TRUE(GotPermanentError(*a1, "m3", "unknown_group"));
}

TEST_F(AdminTest, GetUserReportsHeadCursorsAndUndelivered) {
  ASSERT_TRUE(Admin());
  EXPECT_EQ(One({{"command", "getUser"}, {"user", "bob"}}, "u0"),
            json::parse(R"({"command":"getUser","correlationData":"u0",
                            "data":{"user":"bob","head":0,"devices":[],"undelivered":0}})"));
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  auto* b2 = Online("bob", "phone");
  ASSERT_TRUE(a1 && b1 && b2);
  for (const char* id : {"m1", "m2", "m3"}) ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage(id, "bob", "x")));
  // b1 received entry 1, phone entry 2 (read): one entry left undelivered.
  ASSERT_TRUE(b1->Signal(ReceiptFor("m1", 1, true, false)));
  ASSERT_TRUE(a1->NextEvent(NoticeFor("m1", kReceiver))) << a1->Pending();
  ASSERT_TRUE(b2->Signal(ReceiptFor("m2", 2, false, true)));
  ASSERT_TRUE(a1->NextEvent(NoticeFor("m2", kReceiver))) << a1->Pending();
  EXPECT_EQ(One({{"command", "getUser"}, {"user", "bob"}}, "u1"),
            json::parse(R"({"command":"getUser","correlationData":"u1",
                            "data":{"user":"bob","head":3,
                                    "devices":[{"device":"b1","cursor":1},{"device":"phone","cursor":2}],
                                    "undelivered":1}})"));
  EXPECT_EQ(One({{"command", "getUser"}, {"user", "alice"}}, "u2"),
            json::parse(R"({"command":"getUser","correlationData":"u2",
                            "data":{"user":"alice","head":3,"devices":[],"undelivered":0}})"));
  ExpectError(One({{"command", "getUser"}}, "u3"), "getUser", "u3", "user");
}

TEST_F(AdminTest, GetStatsCountsTraffic) {
  ASSERT_TRUE(Admin());
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  ASSERT_TRUE(a1 && b1);
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("m1", "bob", "x")));
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("m2", "bob", "y")));
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("m1", "bob", "x")));  // duplicate
  ASSERT_TRUE(b1->Signal(ReceiptFor("m1", 1, true, false)));
  ASSERT_TRUE(a1->NextEvent(NoticeFor("m1", kReceiver))) << a1->Pending();
  ASSERT_TRUE(a1->Send(NewMessage("m1", "bob", "other")));
  ASSERT_TRUE(GotPermanentError(*a1, "m1", "id_conflict"));
  ASSERT_TRUE(a1->Send(GroupMessage("g", "nosuch", "z")));
  ASSERT_TRUE(GotPermanentError(*a1, "g", "unknown_group"));
  ASSERT_TRUE(a1->Signal(Activity("bob", kTyping)));
  ASSERT_TRUE(b1->NextEvent([](const v1::Signal& s) { return s.status() == kTyping; })) << b1->Pending();

  auto r = One({{"command", "getStats"}}, "s1");
  ASSERT_TRUE(r.is_object());
  EXPECT_EQ(r.value("command", ""), "getStats");
  EXPECT_EQ(r.value("correlationData", ""), "s1");
  ASSERT_TRUE(r.contains("data")) << r.dump();
  const json& d = r["data"];
  std::set<std::string> keys;
  for (auto it = d.begin(); it != d.end(); ++it) keys.insert(it.key());
  EXPECT_EQ(keys, (std::set<std::string>{"accepted", "duplicates", "deliveries", "receipts", "expired", "trimmed",
                                         "relayed", "errors", "commits", "commitMicrosTotal", "commitMicrosMax",
                                         "commitMicrosLast", "commitMicrosMean", "heapInUseBytes"}))
      << d.dump();
  EXPECT_EQ(d["accepted"], 2) << d.dump();
  EXPECT_EQ(d["duplicates"], 1) << d.dump();
  EXPECT_EQ(d["deliveries"], 4) << "two messages, two copies each; " << d.dump();
  EXPECT_EQ(d["receipts"], 1) << d.dump();
  EXPECT_EQ(d["expired"], 0) << d.dump();
  EXPECT_EQ(d["trimmed"], 0) << d.dump();
  EXPECT_EQ(d["relayed"], 1) << "the typing Signal; " << d.dump();
  EXPECT_EQ(d["errors"], json::parse(R"({"id_conflict":1,"unknown_group":1})")) << d.dump();
  ASSERT_TRUE(d["commits"].is_number_unsigned()) << d.dump();
  EXPECT_GE(d["commits"].get<uint64_t>(), 4u) << d.dump();
  for (const char* k : {"commitMicrosTotal", "commitMicrosMax", "commitMicrosLast", "commitMicrosMean"}) {
    EXPECT_TRUE(d[k].is_number_unsigned()) << k << " " << d.dump();
  }
  const uint64_t commits = d["commits"].get<uint64_t>();
  const uint64_t total = d["commitMicrosTotal"].get<uint64_t>();
  EXPECT_EQ(d["commitMicrosMean"].get<uint64_t>(), total / commits) << d.dump();
  EXPECT_LE(d["commitMicrosMax"].get<uint64_t>(), total) << d.dump();
  EXPECT_LE(d["commitMicrosLast"].get<uint64_t>(), d["commitMicrosMax"].get<uint64_t>()) << d.dump();
  ASSERT_TRUE(d["heapInUseBytes"].is_number_unsigned()) << d.dump();
#if defined(__SANITIZE_ADDRESS__)
  // ASan replaces malloc, and glibc's mallinfo2 then reports nothing: 0 means unknown.
  EXPECT_EQ(d["heapInUseBytes"].get<uint64_t>(), 0u) << d.dump();
#else
  // A running broker always has heap in use.
  EXPECT_GT(d["heapInUseBytes"].get<uint64_t>(), 0u) << d.dump();
#endif
}

TEST_F(AdminTest, SeveralCommandsAnswerInOrderAndBadOnesGetErrors) {
  auto* admin = Admin();
  ASSERT_TRUE(admin);
  auto responses = admin->Call(json::parse(R"([
      {"command":"createGroup","group":"g1","members":["alice"],"correlationData":"x1"},
      {"command":"frobnicate","correlationData":"x2"},
      {"correlationData":"x3"},
      {"command":"listGroups","correlationData":"x4"},
      {"command":"getStats"}
    ])"));
  ASSERT_TRUE(responses);
  ASSERT_EQ(responses->size(), 5u) << responses->dump();
  const json& r = *responses;
  EXPECT_EQ(r[0], json::parse(R"({"command":"createGroup","correlationData":"x1"})"));
  ExpectError(r[1], "frobnicate", "x2", "unknown command");
  ExpectError(r[2], "", "x3", "command");
  EXPECT_EQ(r[3], json::parse(R"({"command":"listGroups","correlationData":"x4","data":{"groups":["g1"]}})"));
  EXPECT_EQ(r[4].value("command", ""), "getStats") << r[4].dump();
  EXPECT_FALSE(r[4].contains("correlationData")) << "none was given: " << r[4].dump();
  EXPECT_TRUE(r[4].contains("data")) << r[4].dump();

  // A payload that is not a commands object still gets a reply with an error.
  for (const std::string bad : {"not json", R"({"command":"listGroups"})", R"({"commands":{}})"}) {
    auto doc = admin->CallRaw(bad);
    ASSERT_TRUE(doc) << "no reply to " << bad;
    ASSERT_TRUE(doc->contains("responses")) << doc->dump();
    ASSERT_EQ((*doc)["responses"].size(), 1u) << doc->dump();
    EXPECT_TRUE((*doc)["responses"][0].contains("error")) << doc->dump();
  }
}

TEST_F(AdminTest, UnauthorisedUserIsRefusedAndRepliesGoToTheAskerOnly) {
  ASSERT_TRUE(Admin());
  AdminClient mallory(broker().port(), "mallory", "m1");
  ASSERT_TRUE(mallory.Connect());
  auto responses = mallory.Call(json::parse(R"([
      {"command":"createGroup","group":"evil","members":["mallory","alice"],"correlationData":"e1"},
      {"command":"listGroups","correlationData":"e2"},
      {"command":"getUser","user":"alice","correlationData":"e3"},
      {"command":"getStats","correlationData":"e4"}
    ])"));
  ASSERT_TRUE(responses);
  EXPECT_EQ(*responses, json::parse(R"([
      {"command":"createGroup","correlationData":"e1","error":"not authorized"},
      {"command":"listGroups","correlationData":"e2","error":"not authorized"},
      {"command":"getUser","correlationData":"e3","error":"not authorized"},
      {"command":"getStats","correlationData":"e4","error":"not authorized"}
    ])"));
  // Nothing was created, and the admin's first reply is its own (mallory's
  // went to mallory only, though the admin listens on the same topic).
  auto mine = Admin()->Command({{"command", "listGroups"}, {"correlationData", "mine"}});
  ASSERT_TRUE(mine);
  EXPECT_EQ(*mine, json::parse(R"({"command":"listGroups","correlationData":"mine","data":{"groups":[]}})"));
  EXPECT_TRUE(Admin()->DrainReplies().empty());
  // Nor did the admin's reply reach mallory.
  auto again = mallory.Command({{"command", "listGroups"}, {"correlationData", "again"}});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->value("correlationData", ""), "again") << again->dump();
  mallory.Disconnect();
}

TEST_F(AdminTest, EveryListedAdminIsAccepted) {
  for (const char* user : {"admin", "ops", "root"}) {
    SCOPED_TRACE(user);
    AdminClient c(broker().port(), user, std::string(user) + "-cli");
    ASSERT_TRUE(c.Connect());
    auto r = c.Command({{"command", "listGroups"}, {"correlationData", user}});
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, (json{{"command", "listGroups"}, {"correlationData", user}, {"data", {{"groups", json::array()}}}}));
    c.Disconnect();
  }
}

TEST_F(AdminTest, GroupsSurviveARestart) {
  ASSERT_TRUE(Admin());
  ASSERT_TRUE(Admin()->CreateGroup("g1", {"alice", "bob"}));
  auto* a1 = Online("alice", "a1");
  ASSERT_TRUE(a1);
  ASSERT_TRUE(SendAndWaitAck(*a1, GroupMessage("m1", "g1", "x")));
  DropAdmin();
  ASSERT_TRUE(CrashAndRestart());
  EXPECT_EQ(One({{"command", "getGroup"}, {"group", "g1"}}, "after"),
            json::parse(R"({"command":"getGroup","correlationData":"after",
                            "data":{"group":"g1","members":["alice","bob"],"userOffset":1}})"));
  auto ack = SendAndWaitAck(*a1, GroupMessage("m2", "g1", "y"));
  ASSERT_TRUE(ack) << a1->Pending();
  EXPECT_EQ(ack->user_offset(), 2);
}

// plugin_opt_stats_interval_s: a one-line summary in the broker's log.
class StatsLogTest : public FeatureTest {
 protected:
  Opts ExtraOptions() const override { return {{"stats_interval_s", "1"}}; }
};

TEST_F(StatsLogTest, SummaryLineAppearsInTheBrokerLog) {
  auto* a1 = Online("alice", "a1");
  ASSERT_TRUE(a1);
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("m1", "bob", "x")));
  // Polls the log file until a summary counts the message.
  EXPECT_TRUE(Eventually([&] { return broker().log().find("courier: stats accepted=1 ") != std::string::npos; }))
      << broker().log();
}

}  // namespace
}  // namespace courier::it
