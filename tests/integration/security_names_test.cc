// Names and logins (security_fixture.h): unusable user names and client
// ids, the "admin" name, anonymous clients, catch-all filters, and
// authentication left to Mosquitto.
#include <string>
#include <vector>

#include "security_fixture.h"

namespace courier::it {
namespace {

// ---- unusable names, no username, no admin -------------------------------------

TEST_F(SecurityTest, UnusableNamesGetNoAccessToTheNamespace) {
  TestClient* b1 = Device("bob", "b1");
  TestClient* sl = Device("sl", "sl1");  // the user whose level "sl/ash" would hit
  ASSERT_TRUE(b1 && sl);
  const std::vector<std::string> everyone = {"msg/#", "msg/+/inbox", "msg/bob/inbox", "msg/bob/#"};
  const std::vector<std::string> bob_send = {"msg/bob/send", "msg/bob/signal"};

  // Usernames with '/', '+', '#' (the password file accepts them; Mosquitto
  // lets them log in).
  TestClient* slash = Login("sl/ash", "s1");
  ASSERT_TRUE(slash);
  ExpectNoAccess(*slash, {"msg/sl/ash/inbox", "msg/sl/ash/events", "msg/sl/inbox", "msg/sl/#"},
                 {"msg/sl/ash/send", "msg/sl/send"});
  ExpectNoAccess(*slash, everyone, bob_send);
  TestClient* plus = Login("ev+il", "e1");
  ASSERT_TRUE(plus);
  ExpectNoAccess(*plus, everyone, bob_send);
  TestClient* hash = Login("ha#sh", "h1");
  ASSERT_TRUE(hash);
  ExpectNoAccess(*hash, everyone, bob_send);

  // A real user with a client id that cannot be a topic level.
  for (const std::string id : {"a/1", "a+1", "a#1"}) {
    TestClient* c = Login("alice", id);
    ASSERT_TRUE(c);
    ExpectNoAccess(*c, {"msg/alice/inbox", "msg/alice/events", "msg/alice/#"}, {"msg/alice/send", "msg/alice/signal"});
    c->Disconnect();
  }

  // Nothing reached bob or sl, and nothing was stored for them.
  TestClient* a1 = Device("alice", "a1");
  ASSERT_TRUE(a1);
  ASSERT_TRUE(SendAndAck(*a1, NewMessage("sentinel-bob", "bob", "x")));
  ASSERT_TRUE(SendAndAck(*a1, NewMessage("sentinel-sl", "sl", "x")));
  ASSERT_TRUE(NextMessage(*b1, "msg/bob/inbox", "sentinel-bob"));
  ASSERT_TRUE(NextMessage(*sl, "msg/sl/inbox", "sentinel-sl"));
  for (auto* c : {b1, sl}) {
    for (const auto& r : c->DrainAll()) EXPECT_NE(IdOf(r).rfind("nope-", 0), 0u) << Describe(r);
    auto log = PullAll(*c);
    ASSERT_EQ(log.size(), 1u) << c->login().username;
    EXPECT_EQ(log[0].id().rfind("sentinel-", 0), 0u);
  }
  // alice's log holds her two sends only: the bad client ids stored nothing.
  EXPECT_EQ(PullAll(*a1).size(), 2u);
}

TEST_F(SecurityTest, AdminIsAnOrdinaryUser) {
  TestClient* admin = Device("admin", "root");
  TestClient* b1 = Device("bob", "b1");
  ASSERT_TRUE(admin && b1);
  ExpectNoAccess(*admin, {"msg/#", "msg/+/inbox", "msg/+/events", "msg/bob/inbox", "#", "+/bob/#"},
                 {"msg/bob/send", "msg/bob/signal", "msg/bob/inbox"});
  ASSERT_TRUE(SendAndAck(*b1, NewMessage("to-admin", "admin", "hi")));
  ASSERT_TRUE(NextMessage(*admin, "msg/admin/inbox", "to-admin"));
  for (const auto& r : admin->DrainAll()) EXPECT_TRUE(r.topic.starts_with("msg/admin/")) << Describe(r);
  EXPECT_EQ(PullAll(*b1).size(), 1u);
}

TEST_F(SecurityTest, AuthenticationIsMosquittos) {
  // No username, a wrong password, an unknown user: refused at CONNECT.
  for (const auto& login : std::vector<::courier::it::Login>{
           {.username = "", .password = "", .client_id = "anon", .protocol = kMqtt5},
           {.username = "alice", .password = "wrong", .client_id = "a9", .protocol = kMqtt5},
           {.username = "mallory", .password = "x", .client_id = "m1", .protocol = kMqtt5},
           {.username = "", .password = "", .client_id = "anon3", .protocol = kMqtt311}}) {
    TestClient c;
    int connack = -1;
    ASSERT_TRUE(c.Connect(broker().port(), login, &connack));
    EXPECT_NE(connack, 0) << "'" << login.username << "' with password '" << login.password << "' logged in";
    c.Disconnect();
  }
}

// password_file with allow_anonymous true: clients without a username may
// connect, but get nothing of Courier.
class AnonymousSecurityTest : public SecurityTest {
 protected:
  bool AllowAnonymous() const override { return true; }
};

TEST_F(AnonymousSecurityTest, ClientWithoutUsernameGetsNoAccess) {
  TestClient* b1 = Device("bob", "b1");
  ASSERT_TRUE(b1);
  TestClient* anon = Login("", "anon1");
  ASSERT_TRUE(anon);
  ExpectNoAccess(*anon, {"msg/bob/inbox", "msg/#", "msg/+/inbox", "msg//inbox", "msg//devices/anon1/events"},
                 {"msg/bob/send", "msg//send", "msg//signal", "msg/bob/inbox"});
  // A known user still needs the right password.
  TestClient c;
  int connack = -1;
  ASSERT_TRUE(c.Connect(broker().port(),
                        {.username = "alice", .password = "bad", .client_id = "a1", .protocol = kMqtt5}, &connack));
  EXPECT_NE(connack, 0);
  c.Disconnect();
  TestClient* a1 = Device("alice", "a1");
  ASSERT_TRUE(a1);
  ASSERT_TRUE(SendAndAck(*a1, NewMessage("sentinel", "bob", "x")));
  ASSERT_TRUE(NextMessage(*b1, "msg/bob/inbox", "sentinel"));
  auto log = PullAll(*b1);
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].id(), "sentinel");
}

// other_topics allow: a filter outside the prefix ('#', '+/...') is granted,
// but each delivery is checked, so it only ever carries the client's own
// Courier topics.
class OtherTopicsAllowTest : public SecurityTest {
 protected:
  std::vector<std::pair<std::string, std::string>> PluginOpts() const override { return {{"other_topics", "allow"}}; }
};

TEST_F(OtherTopicsAllowTest, CatchAllFiltersOnlyDeliverOwnTopics) {
  TestClient* a1 = Device("alice", "a1");
  TestClient* b1 = Device("bob", "b1");
  TestClient* admin = Login("admin", "root");
  ASSERT_TRUE(a1 && b1 && admin);
  for (const std::string f : {"#", "+/+/inbox", "+/bob/#", "+/+/devices/+/events"}) {
    int reason = -1;
    ASSERT_TRUE(admin->SubscribeGranted(f, 1, &reason));
    EXPECT_EQ(reason, 1) << f << " (outside the prefix, other_topics allow)";
  }
  ASSERT_TRUE(admin->Subscribe("msg/admin/inbox"));
  // Topics outside the prefix really are open.
  int reason = -1;
  ASSERT_TRUE(b1->Publish("chat/room", "hello", 1, &reason));
  ASSERT_TRUE(admin->WaitFor([](const Received& r) { return r.topic == "chat/room"; }));

  ASSERT_TRUE(SendAndAck(*a1, NewMessage("private", "bob", "for bob")));
  ASSERT_TRUE(NextMessage(*b1, "msg/bob/inbox", "private"));
  v1::Signal pull = PullRequest(0, 10);
  ASSERT_TRUE(b1->Publish("msg/bob/signal", Bytes(pull), 1, &reason));
  ASSERT_TRUE(
      NextSignal(*b1, "msg/bob/devices/b1/events", [](const v1::Signal& s) { return s.signal_request() == kPull; }));
  // Sentinel for admin.
  ASSERT_TRUE(SendAndAck(*a1, NewMessage("to-admin", "admin", "x")));
  ASSERT_TRUE(NextMessage(*admin, "msg/admin/inbox", "to-admin"));
  for (const auto& r : admin->DrainAll()) {
    EXPECT_FALSE(r.topic.starts_with("msg/") && !r.topic.starts_with("msg/admin/"))
        << "a catch-all filter delivered another user's topic: " << Describe(r);
  }
}

}  // namespace
}  // namespace courier::it
