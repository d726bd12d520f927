// Courier beside the security Mosquitto users run (support/deployment.h):
// anonymous, password_file + acl_file, dynamic security before and after
// Courier's plugin line, per_listener_settings. In each:
//  - Courier's flows work: send and SENDER ack, delivery with the real
//    sender as `from` (a spoofed one is overwritten), receipt, pull;
//  - the ACL matrix of the prefix holds (who may subscribe / publish where),
//    and a refused publish is relayed to nobody;
//  - the startup log says in one line what happens to topics outside msg/.
//  - the sending device gets its own copy back only when dynsec answers
//    first (its default publishClientReceive allows every delivery).
// Plus: an explicit `other_topics defer` that closes topics says so in the
// log, `allow` over an acl_file says so, and a config reload that adds an
// acl_file turns `auto` from allow to defer.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>

#include <signal.h>

#include <fstream>
#include <thread>

#include "support/deployment.h"
#include "support/device.h"
#include "support/fixture.h"
#include "support/mqtt_client.h"
#include "support/wire.h"

namespace courier::it {
namespace {

using namespace std::chrono_literals;

int CountOf(const std::string& log, const std::string& what) {
  int n = 0;
  for (size_t at = log.find(what); at != std::string::npos; at = log.find(what, at + 1)) ++n;
  return n;
}

class CoexistenceTest : public ::testing::TestWithParam<Deployment> {
 protected:
  void SetUp() override {
    broker_ = std::make_unique<DeployedBroker>(GetParam(), true);
    ASSERT_TRUE(broker_->Start());
  }
  void TearDown() override {
    devices_.clear();
    clients_.clear();
    if (HasFailure()) std::fprintf(stderr, "----- broker log -----\n%s\n", broker_->broker().log().c_str());
  }

  CourierDevice* Device(const std::string& user, const std::string& id) {
    devices_.push_back(std::make_unique<CourierDevice>(broker_->port(), user, id));
    devices_.back()->set_password(broker_->Login(user, id).password);
    auto r = devices_.back()->Connect();
    if (!r) {
      ADD_FAILURE() << r.message();
      return nullptr;
    }
    return devices_.back().get();
  }
  TestClient* Client(const std::string& user, const std::string& id) {
    clients_.push_back(std::make_unique<TestClient>());
    auto r = clients_.back()->Connect(
        broker_->port(),
        Login{.username = user, .password = broker_->Login(user, id).password, .client_id = id, .protocol = kMqtt5});
    if (!r) {
      ADD_FAILURE() << r.message();
      return nullptr;
    }
    return clients_.back().get();
  }

  std::unique_ptr<DeployedBroker> broker_;
  std::vector<std::unique_ptr<CourierDevice>> devices_;
  std::vector<std::unique_ptr<TestClient>> clients_;
};

TEST_P(CoexistenceTest, SendAckDeliveryReceiptAndPull) {
  auto* a1 = Device("alice", "a1");
  auto* b1 = Device("bob", "b1");
  ASSERT_TRUE(a1 && b1);
  v1::Message m = NewMessage("m1", "bob", "hello");
  m.mutable_from()->set_user("carol");  // spoofed: the server overwrites it
  m.mutable_from()->set_device("c1");
  auto ack = SendAndWaitAck(*a1, m);
  ASSERT_TRUE(ack) << a1->Pending();
  EXPECT_TRUE(ack->signal_offset_state());
  EXPECT_TRUE(ack->signal_ack_state().send());

  auto got = b1->NextInbox(WithId("m1"));
  ASSERT_TRUE(got) << b1->Pending();
  EXPECT_EQ(got->from().user(), "alice");
  EXPECT_EQ(got->from().device(), "a1");
  EXPECT_EQ(got->signal_offset(), 1);

  v1::Signal receipt = Receipt(got->signal_offset(), true, false);
  receipt.set_id("m1");
  ASSERT_TRUE(b1->Signal(receipt));
  auto notice = a1->NextEvent(NoticeFor("m1", kReceiver));
  ASSERT_TRUE(notice) << a1->Pending();
  EXPECT_TRUE(notice->signal_ack_state().received());
  EXPECT_EQ(notice->from().user(), "bob");

  ASSERT_TRUE(b1->Signal(PullRequest(0, 10)));
  auto pulled = b1->NextDeviceInbox(WithId("m1"));
  ASSERT_TRUE(pulled) << b1->Pending();
  EXPECT_EQ(pulled->from().user(), "alice");
  ASSERT_TRUE(b1->NextDeviceEvent(PullResponse())) << b1->Pending();
}

TEST_P(CoexistenceTest, AclMatrixOfThePrefix) {
  auto* b1 = Device("bob", "b1");
  TestClient* alice = Client("alice", "a1");
  ASSERT_TRUE(b1 && alice);
  const std::vector<std::pair<std::string, int>> subscribe = {
      {"msg/alice/inbox", 1},
      {"msg/alice/events", 1},
      {"msg/alice/devices/a1/inbox", 1},
      {"msg/alice/#", 1},
      {"msg/bob/inbox", kRcNotAuthorized},
      {"msg/bob/events", kRcNotAuthorized},
      {"msg/bob/devices/b1/inbox", kRcNotAuthorized},
      {"msg/alice/devices/a2/inbox", kRcNotAuthorized},
      {"msg/alice/send", kRcNotAuthorized},
      {"msg/#", kRcNotAuthorized},
      {"msg/+/inbox", kRcNotAuthorized},
  };
  for (const auto& [filter, want] : subscribe) {
    int granted = -1;
    ASSERT_TRUE(alice->SubscribeGranted(filter, 1, &granted)) << filter;
    EXPECT_EQ(granted, want) << "subscribe " << filter << " in " << Name(GetParam());
  }
  const std::string bytes = Bytes(NewMessage("forged", "bob", "x"));
  for (const char* topic : {"msg/bob/send", "msg/bob/signal", "msg/bob/inbox", "msg/bob/events", "msg/alice/inbox",
                            "msg/bob/devices/b1/inbox"}) {
    int reason = -1;
    ASSERT_TRUE(alice->Publish(topic, bytes, 1, &reason)) << topic;
    EXPECT_EQ(reason, kRcNotAuthorized) << "publish " << topic << " in " << Name(GetParam());
  }
  // Nothing of it reached bob; a sentinel from alice's own send topic does.
  int reason = -1;
  ASSERT_TRUE(alice->Publish("msg/alice/send", Bytes(NewMessage("sentinel", "bob", "s")), 1, &reason));
  EXPECT_NE(reason, kRcNotAuthorized);
  ASSERT_TRUE(b1->NextInbox(WithId("sentinel"))) << b1->Pending();
  for (const auto& r : b1->client().DrainAll()) {
    auto msg = ParseMessage(r.payload);
    EXPECT_FALSE(msg && msg->id() == "forged") << "bob got " << Describe(r);
  }
}

// Courier leaves the sender's own DEVICE copy out of the sending device's
// deliveries by refusing that one read in its ACL callback. With dynamic
// security listed first, dynsec's default publishClientReceive true allows
// every delivery before Courier is asked, so the sending device gets its
// copy back (docs/security.md, Each combination). Every other order keeps it out.
TEST_P(CoexistenceTest, SendingDeviceGetsItsOwnCopyOnlyWhenDynsecAnswersFirst) {
  auto* a1 = Device("alice", "a1");
  auto* a2 = Device("alice", "a2");
  auto* b1 = Device("bob", "b1");
  ASSERT_TRUE(a1 && a2 && b1);
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("echo", "bob", "x"))) << a1->Pending();
  ASSERT_TRUE(a2->NextInbox(WithId("echo"))) << a2->Pending();  // the other device always gets it
  ASSERT_TRUE(b1->NextInbox(WithId("echo"))) << b1->Pending();
  const bool echoed = a1->NextInbox(WithId("echo"), 500ms).has_value();
  EXPECT_EQ(echoed, GetParam() == Deployment::kDynsecFirst) << Name(GetParam());
}

TEST_P(CoexistenceTest, StartupLogSaysWhatHappensOutsideThePrefix) {
  const std::string log = broker_->broker().log();
  EXPECT_EQ(CountOf(log, "courier: topics outside msg/"), 1) << log;
  if (Restricted(GetParam())) {
    EXPECT_EQ(CountOf(log, "courier: topics outside msg/ are left to "), 1) << log;
    EXPECT_EQ(CountOf(log, "(plugin_opt_other_topics auto: defer)"), 1) << log;
  } else {
    EXPECT_EQ(CountOf(log, "courier: topics outside msg/ are allowed to every client, as before"), 1) << log;
  }
  EXPECT_EQ(CountOf(log, "is listed before Courier"), GetParam() == Deployment::kDynsecFirst ? 1 : 0) << log;
}

INSTANTIATE_TEST_SUITE_P(AllDeployments, CoexistenceTest, ::testing::ValuesIn(AllDeployments()), [](const auto& info) {
  std::string n = Name(info.param);
  for (char& c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
});

// An explicit `defer` on a broker with nothing else: topics close, and the
// log says so and names the option.
TEST(OtherTopicsLog, ExplicitDeferWithoutAclWarnsAndRefuses) {
  DeployedBroker b(Deployment::kAnonymous, true, {{"other_topics", "defer"}});
  ASSERT_TRUE(b.Start());
  const std::string log = b.broker().log();
  EXPECT_EQ(CountOf(log, "courier: topics outside msg/ are now REFUSED to every client"), 1) << log;
  EXPECT_EQ(CountOf(log, "set plugin_opt_other_topics auto or allow"), 1) << log;
  TestClient c;
  ASSERT_TRUE(c.Connect(b.port(), Login{.username = "alice", .client_id = "a1", .protocol = kMqtt5}));
  int reason = -1;
  ASSERT_TRUE(c.Publish("app/x", "x", 1, &reason));
  EXPECT_EQ(reason, kRcNotAuthorized);
}

// `allow` beside an acl_file: Courier answers first, so the acl_file no
// longer restricts topics outside the prefix; the log says so.
TEST(OtherTopicsLog, ExplicitAllowOverAnAclFileWarns) {
  DeployedBroker b(Deployment::kPasswordAclFile, true, {{"other_topics", "allow"}});
  ASSERT_TRUE(b.Start());
  const std::string log = b.broker().log();
  EXPECT_EQ(CountOf(log, "no longer restricts them: Courier answers first"), 1) << log;
}

// A dynamic-security role that may publish to '#' (mallory's). With dynsec's
// plugin line first, dynsec allows her publishes under msg/ before Courier's
// ACL is asked; Courier's message callback still drops every one its own
// ACL refuses. With Courier first, its ACL refuses them. Either way: PUBACK
// 0x87, nothing forged reaches bob, nothing is stored, and her role still
// works outside the prefix.
TEST(DynsecWideRole, ForgedPublishesUnderThePrefixAreDroppedInBothOrders) {
  for (Deployment d : {Deployment::kDynsecFirst, Deployment::kDynsecLast}) {
    SCOPED_TRACE(Name(d));
    DeployedBroker b(d, true);
    ASSERT_TRUE(b.Start());
    CourierDevice bob(b.port(), "bob", "b1");
    bob.set_password(b.Login("bob", "b1").password);
    ASSERT_TRUE(bob.Connect());
    TestClient mallory;
    ASSERT_TRUE(mallory.Connect(b.port(), Login{.username = "mallory",
                                                .password = b.Login("mallory", "m1").password,
                                                .client_id = "m1",
                                                .protocol = kMqtt5}));
    v1::Message forged = NewMessage("forged", "bob", "x");
    forged.mutable_from()->set_user("alice");
    for (const char* topic : {"msg/bob/inbox", "msg/bob/events", "msg/bob/devices/b1/inbox", "msg/bob/send",
                              "msg/bob/signal", "msg/mallory/inbox"}) {
      int reason = -1;
      ASSERT_TRUE(mallory.Publish(topic, Bytes(forged), 1, &reason)) << topic;
      EXPECT_EQ(reason, kRcNotAuthorized) << topic;
    }
    int reason = -1;
    ASSERT_TRUE(mallory.Publish("app/anything", "x", 1, &reason));
    EXPECT_EQ(reason, kRcNoMatchingSubscribers) << "the role works outside the prefix";
    // A sentinel through mallory's own send topic, then bob's whole log.
    ASSERT_TRUE(mallory.Publish("msg/mallory/send", Bytes(NewMessage("sentinel", "bob", "s")), 1, &reason));
    ASSERT_TRUE(bob.NextInbox(WithId("sentinel"))) << bob.Pending();
    ASSERT_TRUE(bob.Signal(PullRequest(0, 10)));
    ASSERT_TRUE(bob.NextDeviceEvent(PullResponse())) << bob.Pending();
    for (const auto& r : bob.client().DrainAll()) {
      auto m = ParseMessage(r.payload);
      EXPECT_FALSE(m && m->id() == "forged") << "bob got " << Describe(r);
    }
  }
}

// A reload (SIGHUP) that adds an acl_file: auto now defers to it.
TEST(OtherTopicsLog, ReloadAddingAnAclFileTurnsAutoToDefer) {
  DeployedBroker b(Deployment::kAnonymous, true);
  ASSERT_TRUE(b.Start());
  TestClient c;
  ASSERT_TRUE(c.Connect(b.port(), Login{.username = "alice", .client_id = "a1", .protocol = kMqtt5}));
  int reason = -1;
  ASSERT_TRUE(c.Publish("forbidden/x", "x", 1, &reason));
  EXPECT_EQ(reason, kRcNoMatchingSubscribers) << "auto allows on a broker without access control";

  const std::string dir = b.broker().data_dir();
  std::ofstream(dir + "/acl") << "user alice\ntopic readwrite app/#\n";
  std::ofstream(dir + "/mosquitto.conf", std::ios::app) << "acl_file " << dir << "/acl\n";
  ASSERT_EQ(::kill(b.broker().pid(), SIGHUP), 0);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (CountOf(b.broker().log(), "are left to acl_file") == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(CountOf(b.broker().log(), "courier: topics outside msg/ are left to acl_file " + dir + "/acl"), 1)
      << b.broker().log();
  ASSERT_TRUE(c.Publish("forbidden/x", "x", 1, &reason));
  EXPECT_EQ(reason, kRcNotAuthorized) << "the acl_file now decides";
  ASSERT_TRUE(c.Publish("app/x", "x", 1, &reason));
  EXPECT_EQ(reason, kRcNoMatchingSubscribers);
}

}  // namespace
}  // namespace courier::it
