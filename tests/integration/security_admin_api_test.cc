// The admin API over $CONTROL/courier/v1 (security_fixture.h): closed
// without plugin_opt_admin_users; with it, only the listed users, and each
// reply goes to the asking client only.
#include <string>
#include <vector>

#include "security_fixture.h"

namespace courier::it {
namespace {

// ---- the admin API -------------------------------------------------------------

const char* const kControl = "$CONTROL/courier/v1";
const char* const kControlResponse = "$CONTROL/courier/v1/response";

std::string Command(const std::string& body) { return R"({"commands":[)" + body + "]}"; }

// Publishes a command and waits for the reply carrying `correlation`.
std::optional<std::string> Ask(TestClient& c, const std::string& command, const std::string& correlation) {
  int reason = -1;
  auto r = c.Publish(kControl, command, 1, &reason);
  if (!r) {
    ADD_FAILURE() << r.message();
    return std::nullopt;
  }
  const std::string tag = R"("correlationData":")" + correlation + R"(")";
  auto got = c.WaitFor(
      [&](const Received& m) { return m.topic == kControlResponse && m.payload.find(tag) != std::string::npos; });
  if (!got) return std::nullopt;
  return got->payload;
}

// No admin_users (the default): even a user called "admin" is refused.
TEST_F(SecurityTest, AdminApiIsClosedWithoutAdminUsers) {
  TestClient* admin = Login("admin", "root");
  ASSERT_TRUE(admin);
  ASSERT_TRUE(admin->Subscribe(kControlResponse));
  auto reply =
      Ask(*admin,
          Command(R"({"command":"getUser","user":"alice","correlationData":"q1"},)"
                  R"({"command":"createGroup","group":"g","members":["admin","alice"],"correlationData":"q1"})"),
          "q1");
  ASSERT_TRUE(reply) << "no reply to the admin API";
  EXPECT_NE(reply->find(R"("error":"not authorized")"), std::string::npos) << *reply;
  EXPECT_EQ(reply->find(R"("data")"), std::string::npos) << "data for a non-admin: " << *reply;
  // The group was not created: a message to it is unknown_group.
  TestClient* a1 = Device("alice", "a1");
  ASSERT_TRUE(a1);
  v1::Message m = NewMessage("to-g", "", "x");
  m.mutable_to()->clear_user();
  m.mutable_to()->set_group("g");
  int reason = -1;
  ASSERT_TRUE(a1->Publish("msg/alice/send", Bytes(m), 1, &reason));
  auto err = NextSignal(*a1, "msg/alice/devices/a1/events", [](const v1::Signal& s) { return s.has_error(); });
  ASSERT_TRUE(err);
  EXPECT_EQ(err->error().rfind("unknown_group:", 0), 0u) << Describe(*err);
}

class AdminApiTest : public SecurityTest {
 protected:
  std::vector<std::pair<std::string, std::string>> PluginOpts() const override { return {{"admin_users", "admin"}}; }
};

TEST_F(AdminApiTest, OnlyAdminUsersAndRepliesOnlyToTheAsker) {
  TestClient* a1 = Device("alice", "a1");
  TestClient* admin = Login("admin", "root");
  TestClient* snoop = Login("bob", "b-snoop");
  ASSERT_TRUE(a1 && admin && snoop);
  ASSERT_TRUE(SendAndAck(*a1, NewMessage("m1", "bob", "x")));
  // Being an admin grants nothing in the message namespace.
  ExpectNoAccess(*admin, {"msg/#", "msg/alice/inbox", "msg/+/events"}, {"msg/alice/send", "msg/alice/inbox"});
  ASSERT_TRUE(admin->Subscribe(kControlResponse));
  // Anyone named may listen on the reply topic (replies are addressed to one
  // client), but nobody may read the requests or publish replies.
  ASSERT_TRUE(snoop->Subscribe(kControlResponse));
  for (const std::string f : {kControl, "$CONTROL/#", "$CONTROL/courier/#", "$CONTROL/+/v1"}) {
    int reason = -1;
    ASSERT_TRUE(snoop->SubscribeGranted(f, 1, &reason));
    EXPECT_EQ(reason, kRcNotAuthorized) << "subscribe " << f;
  }
  int reason = -1;
  ASSERT_TRUE(snoop->Publish(kControlResponse, R"({"responses":[{"command":"forged"}]})", 1, &reason));
  EXPECT_EQ(reason, kRcNotAuthorized) << "published a forged admin reply";

  // The admin reads alice's state; the reply reaches the admin only.
  auto reply = Ask(*admin, Command(R"({"command":"getUser","user":"alice","correlationData":"secret-1"})"), "secret-1");
  ASSERT_TRUE(reply) << "no reply for the admin";
  EXPECT_NE(reply->find(R"("data")"), std::string::npos) << *reply;
  // bob asks the same: not authorized, and nothing created by his createGroup.
  auto refused =
      Ask(*snoop,
          Command(R"({"command":"getUser","user":"alice","correlationData":"bob-1"},)"
                  R"({"command":"createGroup","group":"mine","members":["bob","alice"],"correlationData":"bob-1"})"),
          "bob-1");
  ASSERT_TRUE(refused) << "no reply for bob";
  EXPECT_NE(refused->find(R"("error":"not authorized")"), std::string::npos) << *refused;
  EXPECT_EQ(refused->find(R"("data")"), std::string::npos) << *refused;
  // bob's reply arrived after the admin's: had the admin's been broadcast,
  // bob would hold it now.
  for (const auto& r : snoop->DrainAll()) {
    EXPECT_EQ(r.payload.find("secret-1"), std::string::npos) << "bob saw the admin's reply: " << r.payload;
  }
  for (const auto& r : admin->DrainAll()) {
    EXPECT_EQ(r.payload.find("bob-1"), std::string::npos) << "the admin saw bob's reply: " << r.payload;
  }
  auto groups = Ask(*admin, Command(R"({"command":"listGroups","correlationData":"l"})"), "l");
  ASSERT_TRUE(groups);
  EXPECT_EQ(groups->find("mine"), std::string::npos) << "a non-admin created a group: " << *groups;
}

}  // namespace
}  // namespace courier::it
