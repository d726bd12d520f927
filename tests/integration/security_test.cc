// Security (protocol.md "Identity", "Topics"; docs/security.md): a real
// mosquitto with password_file authentication and the Courier plugin.
//
//  - The ACL matrix: every Courier topic x publish and subscribe x own and
//    other user (and device), plus wildcard filters, over MQTT 3.1.1 and 5.
//    Every cell is asserted: a refused subscription is SUBACK 0x80 (3.1.1) /
//    0x87 (5); a refused QoS 1 publish is PUBACK 0x87 on MQTT 5, and on any
//    protocol nothing of it is relayed (watchers on every topic of both
//    users see nothing) and nothing is stored (PULLs of both logs).
//  - Identity binding: a spoofed `from` is delivered as the real sender.
//  - Receipts: nobody can receipt another user's entries.
//  - Unusable names (no username, '+', '/', '#' in the username or client
//    id) and an "admin" user get no access to the namespace.
//  - The admin API ($CONTROL/courier/v1): without plugin_opt_admin_users
//    nobody may use it; with it, only the listed users, and each reply goes
//    to the asking client only.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "proc/temp_dir.h"
#include "support/broker.h"
#include "support/mqtt_client.h"
#include "support/process.h"
#include "support/wire.h"

#ifndef MOSQUITTO_PASSWD_BIN
#error "MOSQUITTO_PASSWD_BIN must be defined by the build"
#endif

namespace courier::it {
namespace {

using namespace std::chrono_literals;

// Every account of the password file. Nobody is special: there is no admin
// in Courier, and "admin" is an ordinary user name.
const std::vector<std::string> kUsers = {"alice", "bob", "carol", "admin", "sl",
                                         "sl/ash", "ev+il", "ha#sh"};

std::string Password(const std::string& user) { return user + "-secret"; }

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int Refused(int protocol) { return protocol == kMqtt5 ? kRcNotAuthorized : kSubackFailure311; }

std::optional<v1::Message> AsMessage(const Received& r) { return ParseMessage(r.payload); }
std::optional<v1::Signal> AsSignal(const Received& r) { return ParseSignal(r.payload); }

// The id a received publish carries, decoded by topic kind.
std::string IdOf(const Received& r) {
  if (r.topic.size() >= 6 && r.topic.compare(r.topic.size() - 6, 6, "/inbox") == 0) {
    if (auto m = AsMessage(r)) return m->id();
  } else if (auto s = AsSignal(r)) {
    return s->id();
  }
  return {};
}

class SecurityTest : public ::testing::Test {
 protected:
  virtual bool AllowAnonymous() const { return false; }
  virtual std::vector<std::pair<std::string, std::string>> PluginOpts() const { return {}; }

  void SetUp() override {
    dir_ = proc::MakeTempDir("courier-sec-");
    ASSERT_FALSE(dir_.empty());
    const std::string passwd = dir_ + "/passwd";
    bool first = true;
    for (const auto& user : kUsers) {
      std::vector<std::string> argv = {MOSQUITTO_PASSWD_BIN, "-b"};
      if (first) argv.push_back("-c");
      argv.insert(argv.end(), {passwd, user, Password(user)});
      ASSERT_TRUE(RunProgram(argv, 30s)) << "mosquitto_passwd for '" << user << "'";
      first = false;
    }
    BrokerOptions o;
    o.extra_config = {AllowAnonymous() ? "allow_anonymous true" : "allow_anonymous false",
                      "password_file " + passwd};
    // The matrix asserts that filters outside the prefix ('#', '+/...') are
    // refused: that is other_topics defer on a broker without an acl_file
    // (the default, auto, would allow them here). A subclass's options come
    // after, so they may choose otherwise.
    o.plugin_opts = {{"other_topics", "defer"}};
    for (auto& kv : PluginOpts()) o.plugin_opts.push_back(kv);
    broker_ = std::make_unique<Broker>(o);
    ASSERT_TRUE(broker_->Start());
  }

  void TearDown() override {
    for (auto& c : clients_) c->Disconnect();
    clients_.clear();
    if (broker_ && HasFailure()) {
      std::string log = broker_->log();
      constexpr size_t kMaxLog = 20000;
      if (log.size() > kMaxLog) log = "...\n" + log.substr(log.size() - kMaxLog);
      std::fprintf(stderr, "----- broker log (port %d) -----\n%s\n-----\n", broker_->port(), log.c_str());
    }
    broker_.reset();
    proc::RemoveTree(dir_);
  }

  // A client logged in with the user's password; nullptr (and a failure)
  // when the broker refuses it.
  TestClient* Login(const std::string& user, const std::string& client_id, int protocol = kMqtt5) {
    clients_.push_back(std::make_unique<TestClient>());
    auto r = clients_.back()->Connect(broker_->port(),
                                      {.username = user,
                                       .password = user.empty() ? "" : Password(user),
                                       .client_id = client_id,
                                       .protocol = protocol});
    if (!r) {
      ADD_FAILURE() << r.message();
      return nullptr;
    }
    return clients_.back().get();
  }

  // A logged-in device subscribed to its user's inbox and events and its own
  // device topics, like a real client.
  TestClient* Device(const std::string& user, const std::string& client_id, int protocol = kMqtt5) {
    TestClient* c = Login(user, client_id, protocol);
    if (c == nullptr) return nullptr;
    for (const auto& t : {InboxTopic(user), EventsTopic(user), DeviceInboxTopic(user, client_id),
                          DeviceEventsTopic(user, client_id)}) {
      auto r = c->Subscribe(t);
      if (!r) {
        ADD_FAILURE() << r.message();
        return nullptr;
      }
    }
    return c;
  }

  // Publishes a Message to the sender's send topic and waits for its SENDER ack.
  std::optional<v1::Signal> SendAndAck(TestClient& c, const v1::Message& m) {
    int reason = -1;
    auto r = c.Publish(SendTopic(c.login().username), Bytes(m), 1, &reason);
    if (!r) {
      ADD_FAILURE() << r.message();
      return std::nullopt;
    }
    EXPECT_LT(reason, 0x80) << "publish to own send refused";
    auto got = c.WaitFor([&](const Received& rec) {
      auto s = AsSignal(rec);
      return rec.topic == EventsTopic(c.login().username) && s && s->id() == m.id() &&
             s->type() == kResponse && s->signal_type() == kSender;
    });
    if (!got) return std::nullopt;
    return AsSignal(*got);
  }

  std::optional<v1::Message> NextMessage(TestClient& c, const std::string& topic, const std::string& id) {
    auto got = c.WaitFor([&](const Received& r) {
      auto m = r.topic == topic ? AsMessage(r) : std::nullopt;
      return m && m->id() == id;
    });
    if (!got) return std::nullopt;
    return AsMessage(*got);
  }

  std::optional<v1::Signal> NextSignal(TestClient& c, const std::string& topic,
                                       const std::function<bool(const v1::Signal&)>& match) {
    auto got = c.WaitFor([&](const Received& r) {
      auto s = r.topic == topic ? AsSignal(r) : std::nullopt;
      return s && match(*s);
    });
    if (!got) return std::nullopt;
    return AsSignal(*got);
  }

  // PULLs the whole log of `c`'s user (from offset 0) and returns its entries,
  // after checking the response's head equals the number of entries.
  std::vector<v1::Message> PullAll(TestClient& c) {
    const std::string user = c.login().username, device = c.login().client_id;
    v1::Signal p = PullRequest(0, 1000);
    p.set_id("pull-all");
    int reason = -1;
    auto r = c.Publish(SignalTopic(user), Bytes(p), 1, &reason);
    if (!r) {
      ADD_FAILURE() << r.message();
      return {};
    }
    auto resp = NextSignal(c, DeviceEventsTopic(user, device), [](const v1::Signal& s) {
      return s.id() == "pull-all" && s.type() == kResponse && s.signal_request() == kPull;
    });
    if (!resp) {
      ADD_FAILURE() << "no PULL response for " << user << "/" << device;
      return {};
    }
    // Overlapping subscriptions (msg/alice/# and the device inbox) may
    // deliver an entry twice: keep one per offset.
    std::map<int32_t, v1::Message> by_offset;
    while (by_offset.size() < resp->limit()) {
      auto got = c.WaitFor([&](const Received& rec) { return rec.topic == DeviceInboxTopic(user, device); });
      if (!got) break;
      if (auto m = AsMessage(*got)) by_offset.emplace(m->signal_offset(), *m);
    }
    std::vector<v1::Message> out;
    for (auto& [offset, m] : by_offset) out.push_back(std::move(m));
    EXPECT_EQ(static_cast<int>(out.size()), resp->signal_offset())
        << "a PULL from 0 returned other than the whole log of " << user;
    return out;
  }

  Broker& broker() { return *broker_; }

 private:
  std::string dir_;
  std::unique_ptr<Broker> broker_;
  std::vector<std::unique_ptr<TestClient>> clients_;
};

// ---- the ACL matrix ----------------------------------------------------------

class AclMatrixTest : public SecurityTest, public ::testing::WithParamInterface<int> {};

struct Cell {
  std::string topic;
  bool allowed;
};

TEST_P(AclMatrixTest, EveryTopicPublishAndSubscribeOwnAndOther) {
  const int proto = GetParam();
  // Watchers: bob's device and alice's second device, each subscribed to
  // everything of its own user (wildcards below the own user level are
  // allowed) and, on MQTT 5, told the reason codes.
  TestClient* b1 = Device("bob", "b1");
  TestClient* a2 = Device("alice", "a2");
  ASSERT_TRUE(b1 && a2);
  ASSERT_TRUE(b1->Subscribe("msg/bob/#"));
  ASSERT_TRUE(a2->Subscribe("msg/alice/#"));
  // The actor: alice's device a1, over the protocol under test.
  TestClient* a1 = Login("alice", "a1", proto);
  ASSERT_TRUE(a1);

  // An entry in both logs, so that forged receipts would have something to mark.
  ASSERT_TRUE(SendAndAck(*a2, NewMessage("seed", "bob", "first")));

  // Subscribe: every Courier topic of alice (own), of alice's other device,
  // of bob (other), and wildcard filters.
  const std::vector<Cell> subscribe = {
      {"msg/alice/send", false},
      {"msg/alice/signal", false},
      {"msg/alice/inbox", true},
      {"msg/alice/events", true},
      {"msg/alice/devices/a1/inbox", true},
      {"msg/alice/devices/a1/events", true},
      {"msg/alice/devices/a2/inbox", false},
      {"msg/alice/devices/a2/events", false},
      {"msg/bob/send", false},
      {"msg/bob/signal", false},
      {"msg/bob/inbox", false},
      {"msg/bob/events", false},
      {"msg/bob/devices/b1/inbox", false},
      {"msg/bob/devices/b1/events", false},
      {"msg/bob/devices/a1/inbox", false},  // own client id under another user
      {"msg/bob/devices/a1/events", false},
      // wildcards
      {"msg/#", false},
      {"msg/+", false},
      {"msg/+/inbox", false},
      {"msg/+/events", false},
      {"msg/+/send", false},
      {"msg/+/devices/a1/inbox", false},
      {"msg/bob/#", false},
      {"msg/bob/+", false},
      {"msg/alice/devices/+/inbox", false},
      {"msg/alice/devices/+/events", false},
      {"msg/alice/devices/#", false},
      {"msg/alice/+/a2/inbox", false},
      {"#", false},            // outside the prefix: deferred, and no other ACL allows it
      {"+/alice/inbox", false},
      {"+/bob/inbox", false},
      {"msg/alice/#", true},  // wildcards below the own user level: deliveries are checked
      {"msg/alice/+", true},
      {"msg/alice/devices/a1/+", true},
      {"msg/alice/devices/a1/#", true},
      {"msg/alice/+/a1/inbox", true},
  };
  for (const auto& cell : subscribe) {
    int reason = -1;
    ASSERT_TRUE(a1->SubscribeGranted(cell.topic, 1, &reason)) << cell.topic;
    if (cell.allowed) {
      EXPECT_EQ(reason, 1) << "subscribe " << cell.topic << " should be granted (QoS 1)";
    } else {
      EXPECT_EQ(reason, Refused(proto)) << "subscribe " << cell.topic << " should be refused";
    }
  }

  // Publish (QoS 1): what would be stored or relayed if the ACL let it
  // through carries an id "cell-<n>"; receipts name the seed's offset 1.
  const std::vector<Cell> publish = {
      {"msg/alice/inbox", false},
      {"msg/alice/events", false},
      {"msg/alice/devices/a1/inbox", false},
      {"msg/alice/devices/a1/events", false},
      {"msg/alice/devices/a2/inbox", false},
      {"msg/alice/devices/a2/events", false},
      {"msg/alice/other", false},
      {"msg/alice", false},
      {"msg/alice/send/x", false},
      {"msg/bob/send", false},
      {"msg/bob/signal", false},
      {"msg/bob/inbox", false},
      {"msg/bob/events", false},
      {"msg/bob/devices/b1/inbox", false},
      {"msg/bob/devices/b1/events", false},
      {"msg/bob/devices/a1/inbox", false},
      {"msg/bob/devices/a1/events", false},
      {"msg/alice/send", true},
      {"msg/alice/signal", true},
  };
  std::set<std::string> forbidden_ids;
  for (size_t i = 0; i < publish.size(); ++i) {
    const Cell& cell = publish[i];
    const std::string id = cell.allowed ? "ok-" + std::to_string(i) : "cell-" + std::to_string(i);
    std::string bytes;
    const bool is_send = cell.topic.ends_with("/send") || cell.topic.ends_with("/inbox") ||
                         cell.topic == "msg/alice" || cell.topic.ends_with("/other") ||
                         cell.topic.ends_with("/x");
    if (cell.topic.ends_with("/signal")) {
      // A read receipt for entry 1 (alice's own DEVICE copy, bob's RECEIVER
      // copy of "seed"); on alice's own signal topic a PULL instead.
      v1::Signal s = cell.allowed ? PullRequest(0, 0) : Receipt(1, true, true);
      s.set_id(id);
      bytes = Bytes(s);
    } else if (is_send) {
      v1::Message m = NewMessage(id, cell.topic.starts_with("msg/bob") ? "alice" : "bob", "forged " + cell.topic);
      bytes = Bytes(m);
    } else {
      v1::Signal s;  // a forged SENDER ack / notice
      s.set_id(id);
      s.set_type(kResponse);
      s.set_signal_type(kSender);
      s.set_signal_offset(1);
      s.set_signal_offset_state(true);
      bytes = Bytes(s);
    }
    if (!cell.allowed) forbidden_ids.insert(id);
    int reason = -1;
    ASSERT_TRUE(a1->Publish(cell.topic, bytes, 1, &reason)) << cell.topic;
    if (cell.allowed) {
      EXPECT_TRUE(reason == 0 || reason == kRcNoMatchingSubscribers)
          << "publish to " << cell.topic << " should be accepted, reason 0x" << std::hex << reason;
    } else if (proto == kMqtt5) {
      EXPECT_EQ(reason, kRcNotAuthorized) << "publish to " << cell.topic << " should be refused";
    } else {
      EXPECT_EQ(reason, 0) << "MQTT 3.1.1 has no PUBACK reason";
    }
  }

  // The two allowed publishes did what they say: a stored message and a PULL.
  const std::string ok_send = "ok-" + std::to_string(publish.size() - 2);
  const std::string ok_pull = "ok-" + std::to_string(publish.size() - 1);
  ASSERT_TRUE(NextSignal(*a1, "msg/alice/events", [&](const v1::Signal& s) {
    return s.id() == ok_send && s.signal_type() == kSender;
  })) << "no SENDER ack for the allowed send";
  ASSERT_TRUE(NextMessage(*b1, "msg/bob/inbox", ok_send));
  ASSERT_TRUE(NextSignal(*a1, "msg/alice/devices/a1/events", [&](const v1::Signal& s) {
    return s.id() == ok_pull && s.signal_request() == kPull;
  })) << "no PULL response for the allowed signal";

  // Sentinel: a message sent after every cell reaches every watcher.
  ASSERT_TRUE(SendAndAck(*a2, NewMessage("sentinel", "bob", "last")));
  ASSERT_TRUE(NextMessage(*b1, "msg/bob/inbox", "sentinel"));
  ASSERT_TRUE(NextMessage(*a1, "msg/alice/inbox", "sentinel"));

  // Nothing was relayed: no watcher, and not alice's own wildcard
  // subscriptions, saw a forged id, a raw publish to send/signal, or a topic
  // of another user.
  for (auto* c : {a1, a2, b1}) {
    const std::string own = "msg/" + c->login().username + "/";
    for (const auto& r : c->DrainAll()) {
      EXPECT_EQ(forbidden_ids.count(IdOf(r)), 0u)
          << c->login().client_id << " received a refused publish: " << Describe(r);
      EXPECT_TRUE(r.topic.starts_with(own)) << c->login().client_id << " received " << Describe(r);
      EXPECT_FALSE(r.topic.ends_with("/send") || r.topic.ends_with("/signal"))
          << c->login().client_id << " received a raw publish: " << Describe(r);
      // A refused publish never reaches the plugin, so it answers nothing
      // (on 3.1.1 this is how a refusal shows besides its missing effects).
      auto s = r.topic.ends_with("/events") ? AsSignal(r) : std::nullopt;
      EXPECT_FALSE(s && s->has_error()) << c->login().client_id << " got an error: " << Describe(r);
    }
  }

  // Nothing was stored: both logs hold seed, the allowed send and sentinel,
  // and the forged receipt marked nothing.
  for (auto* c : {a2, b1}) {
    auto entries = PullAll(*c);
    ASSERT_EQ(entries.size(), 3u) << c->login().username;
    EXPECT_EQ(entries[0].id(), "seed");
    EXPECT_EQ(entries[1].id(), ok_send);
    EXPECT_EQ(entries[2].id(), "sentinel");
    for (const auto& m : entries) {
      EXPECT_EQ(forbidden_ids.count(m.id()), 0u) << Describe(m);
      EXPECT_FALSE(m.signal_ack_state().received() || m.signal_ack_state().read())
          << "a forged receipt marked " << Describe(m);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Protocols, AclMatrixTest, ::testing::Values(kMqtt311, kMqtt5),
                         [](const auto& info) { return info.param == kMqtt5 ? "Mqtt5" : "Mqtt311"; });

// QoS 0 and 2 refusals: on MQTT 5 a refused QoS 2 publish gets PUBREC 0x87;
// a refused QoS 0 publish has no answer. Neither stores anything.
TEST_F(SecurityTest, RefusedPublishesAtQos0And2StoreNothing) {
  TestClient* b1 = Device("bob", "b1");
  TestClient* a1 = Device("alice", "a1");
  ASSERT_TRUE(b1 && a1);
  int reason = -1;
  ASSERT_TRUE(a1->Publish("msg/bob/send", Bytes(NewMessage("q2", "alice", "x")), 2, &reason));
  EXPECT_EQ(reason, kRcNotAuthorized);
  ASSERT_TRUE(a1->Publish("msg/bob/send", Bytes(NewMessage("q0", "alice", "x")), 0, &reason));
  ASSERT_TRUE(a1->Publish("msg/bob/inbox", Bytes(NewMessage("q0-inbox", "bob", "x")), 0, &reason));
  // Allowed at QoS 2: the own send topic.
  ASSERT_TRUE(a1->Publish("msg/alice/send", Bytes(NewMessage("own-q2", "bob", "x")), 2, &reason));
  EXPECT_LT(reason, 0x80);
  ASSERT_TRUE(NextMessage(*b1, "msg/bob/inbox", "own-q2"));
  ASSERT_TRUE(SendAndAck(*a1, NewMessage("sentinel", "bob", "x")));
  ASSERT_TRUE(NextMessage(*b1, "msg/bob/inbox", "sentinel"));
  for (const auto& r : b1->DrainAll()) {
    EXPECT_NE(IdOf(r).rfind("q", 0), 0u) << "relayed: " << Describe(r);
  }
  auto bob_log = PullAll(*b1);
  ASSERT_EQ(bob_log.size(), 2u);
  EXPECT_EQ(bob_log[0].id(), "own-q2");
  EXPECT_EQ(bob_log[1].id(), "sentinel");
}

// ---- identity binding ---------------------------------------------------------

TEST_F(SecurityTest, SpoofedFromIsDeliveredAsTheRealSender) {
  TestClient* a1 = Device("alice", "a1");
  TestClient* b1 = Device("bob", "b1");
  TestClient* c1 = Device("carol", "c1");
  ASSERT_TRUE(a1 && b1 && c1);
  const int64_t before = NowMs();

  v1::Message m = NewMessage("spoof", "bob", "who am I");
  m.mutable_from()->set_user("carol");
  m.mutable_from()->set_device("c1");
  // Server-owned fields are overwritten too.
  m.set_signal_offset(77);
  m.set_user_offset(88);
  m.set_signal_type(kSender);
  m.set_server_timestamp(5);
  m.set_signal_offset_state(false);
  m.mutable_signal_ack_state()->set_read(true);
  m.mutable_signal_ack_state()->set_received(true);
  auto ack = SendAndAck(*a1, m);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->from().user(), "alice");
  EXPECT_EQ(ack->from().device(), "a1");
  EXPECT_EQ(ack->signal_offset(), 1);

  auto got = NextMessage(*b1, "msg/bob/inbox", "spoof");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->from().user(), "alice") << Describe(*got);
  EXPECT_EQ(got->from().device(), "a1") << Describe(*got);
  EXPECT_EQ(got->signal_offset(), 1);
  EXPECT_EQ(got->user_offset(), 1);
  EXPECT_EQ(got->signal_type(), kReceiver);
  EXPECT_TRUE(got->signal_offset_state());
  EXPECT_TRUE(got->signal_ack_state().send());
  EXPECT_FALSE(got->signal_ack_state().received()) << Describe(*got);
  EXPECT_FALSE(got->signal_ack_state().read()) << Describe(*got);
  EXPECT_GE(got->server_timestamp(), before);

  // from = the receiver itself: still alice.
  v1::Message self = NewMessage("spoof-self", "bob", "x");
  self.mutable_from()->set_user("bob");
  self.mutable_from()->set_device("b1");
  ASSERT_TRUE(SendAndAck(*a1, self));
  got = NextMessage(*b1, "msg/bob/inbox", "spoof-self");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->from().user(), "alice");
  EXPECT_EQ(got->from().device(), "a1");

  // Activity with a spoofed from: forwarded as alice/a1.
  v1::Signal typing = Activity("bob", kTyping);
  typing.mutable_from()->set_user("carol");
  typing.mutable_from()->set_device("c1");
  int reason = -1;
  ASSERT_TRUE(a1->Publish("msg/alice/signal", Bytes(typing), 1, &reason));
  auto act = NextSignal(*b1, "msg/bob/events", [](const v1::Signal& s) { return s.status() == kTyping; });
  ASSERT_TRUE(act);
  EXPECT_EQ(act->from().user(), "alice") << Describe(*act);
  EXPECT_EQ(act->from().device(), "a1") << Describe(*act);

  // carol, whose name was used, got nothing.
  ASSERT_TRUE(SendAndAck(*a1, NewMessage("to-carol", "carol", "sentinel")));
  ASSERT_TRUE(NextMessage(*c1, "msg/carol/inbox", "to-carol"));
  for (const auto& r : c1->DrainAll()) {
    EXPECT_NE(IdOf(r).rfind("spoof", 0), 0u) << Describe(r);
    auto s = AsSignal(r);
    EXPECT_FALSE(r.topic.ends_with("/events") && s && s->status() != 0) << Describe(r);
  }
}

// ---- receipts -------------------------------------------------------------------

TEST_F(SecurityTest, NobodyCanReceiptAnotherUsersEntries) {
  TestClient* a1 = Device("alice", "a1");
  TestClient* b1 = Device("bob", "b1");
  TestClient* c1 = Device("carol", "c1");
  ASSERT_TRUE(a1 && b1 && c1);
  // alice -> carol: alice's offset 1, carol's offset 1.
  ASSERT_TRUE(SendAndAck(*a1, NewMessage("for-carol", "carol", "x")));
  // carol -> bob: carol's offset 2, bob's offset 1.
  ASSERT_TRUE(SendAndAck(*c1, NewMessage("for-bob", "bob", "y")));
  ASSERT_TRUE(NextMessage(*b1, "msg/bob/inbox", "for-bob"));

  // bob on alice's and carol's signal topics: refused by the ACL.
  for (const std::string user : {"alice", "carol"}) {
    v1::Signal r = Receipt(1, true, true);
    r.set_id("forged-" + user);
    int reason = -1;
    ASSERT_TRUE(b1->Publish(SignalTopic(user), Bytes(r), 1, &reason));
    EXPECT_EQ(reason, kRcNotAuthorized) << "bob published to " << SignalTopic(user);
  }
  // bob on his own signal topic, offset 1: bob's own entry ("for-bob"),
  // whatever id or names the Signal carries.
  v1::Signal own = Receipt(1, true, true);
  own.set_id("for-carol");
  own.mutable_to()->set_user("alice");
  own.mutable_from()->set_user("alice");
  int reason = -1;
  ASSERT_TRUE(b1->Publish(SignalTopic("bob"), Bytes(own), 1, &reason));
  auto notice = NextSignal(*c1, "msg/carol/events", [](const v1::Signal& s) {
    return s.type() == kResponse && s.signal_type() == kReceiver;
  });
  ASSERT_TRUE(notice) << "carol got no RECEIVER notice for bob's receipt";
  EXPECT_EQ(notice->id(), "for-bob") << Describe(*notice);
  EXPECT_EQ(notice->signal_offset(), 2) << Describe(*notice);
  EXPECT_EQ(notice->from().user(), "bob");
  EXPECT_TRUE(notice->signal_ack_state().read());
  // An offset bob's log does not have: unknown_offset, nothing marked.
  v1::Signal beyond = Receipt(2, true, true);
  beyond.set_id("beyond");
  ASSERT_TRUE(b1->Publish(SignalTopic("bob"), Bytes(beyond), 1, &reason));
  auto err = NextSignal(*b1, "msg/bob/devices/b1/events", [](const v1::Signal& s) { return s.has_error(); });
  ASSERT_TRUE(err);
  EXPECT_EQ(err->id(), "beyond");
  EXPECT_EQ(err->type(), kError);
  EXPECT_EQ(err->error().rfind("unknown_offset:", 0), 0u) << Describe(*err);

  // Sentinel for alice's events, then: alice heard nothing, and her entry
  // and carol's copy of it are unmarked.
  ASSERT_TRUE(SendAndAck(*a1, NewMessage("sentinel", "carol", "z")));
  for (const auto& r : a1->DrainAll()) {
    auto s = AsSignal(r);
    EXPECT_FALSE(r.topic.ends_with("/events") && s && s->signal_type() == kReceiver)
        << "alice got a receipt notice: " << Describe(r);
  }
  auto alice_log = PullAll(*a1);
  ASSERT_EQ(alice_log.size(), 2u);
  EXPECT_EQ(alice_log[0].id(), "for-carol");
  EXPECT_FALSE(alice_log[0].signal_ack_state().received() || alice_log[0].signal_ack_state().read())
      << Describe(alice_log[0]);
  auto carol_log = PullAll(*c1);
  ASSERT_EQ(carol_log.size(), 3u);
  EXPECT_EQ(carol_log[0].id(), "for-carol");
  EXPECT_FALSE(carol_log[0].signal_ack_state().received()) << Describe(carol_log[0]);
  EXPECT_EQ(carol_log[1].id(), "for-bob");
  EXPECT_TRUE(carol_log[1].signal_ack_state().read()) << Describe(carol_log[1]);
}

// ---- unusable names, no username, no admin -------------------------------------

// Probes one connected client: none of these filters or topics is allowed.
void ExpectNoAccess(TestClient& c, const std::vector<std::string>& filters,
                    const std::vector<std::string>& topics) {
  const std::string who = "'" + c.login().username + "'/'" + c.login().client_id + "'";
  for (const auto& f : filters) {
    int reason = -1;
    ASSERT_TRUE(c.SubscribeGranted(f, 1, &reason)) << f;
    EXPECT_EQ(reason, kRcNotAuthorized) << who << " subscribed to " << f;
  }
  for (const auto& t : topics) {
    int reason = -1;
    ASSERT_TRUE(c.Publish(t, Bytes(NewMessage("nope-" + c.login().client_id, "bob", "x")), 1, &reason)) << t;
    EXPECT_EQ(reason, kRcNotAuthorized) << who << " published to " << t;
  }
}

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
  auto got = c.WaitFor([&](const Received& m) {
    return m.topic == kControlResponse && m.payload.find(tag) != std::string::npos;
  });
  if (!got) return std::nullopt;
  return got->payload;
}

// No admin_users (the default): even a user called "admin" is refused.
TEST_F(SecurityTest, AdminApiIsClosedWithoutAdminUsers) {
  TestClient* admin = Login("admin", "root");
  ASSERT_TRUE(admin);
  ASSERT_TRUE(admin->Subscribe(kControlResponse));
  auto reply = Ask(*admin, Command(R"({"command":"getUser","user":"alice","correlationData":"q1"},)"
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
  std::vector<std::pair<std::string, std::string>> PluginOpts() const override {
    return {{"admin_users", "admin"}};
  }
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
  auto refused = Ask(*snoop,
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

TEST_F(SecurityTest, AuthenticationIsMosquittos) {
  // No username, a wrong password, an unknown user: refused at CONNECT.
  for (const auto& login : std::vector<::courier::it::Login>{{.username = "", .password = "", .client_id = "anon", .protocol = kMqtt5},
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
  ASSERT_TRUE(c.Connect(broker().port(), {.username = "alice", .password = "bad", .client_id = "a1", .protocol = kMqtt5}, &connack));
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
  std::vector<std::pair<std::string, std::string>> PluginOpts() const override {
    return {{"other_topics", "allow"}};
  }
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
  ASSERT_TRUE(NextSignal(*b1, "msg/bob/devices/b1/events", [](const v1::Signal& s) { return s.signal_request() == kPull; }));
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
