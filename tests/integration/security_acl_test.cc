// The ACL matrix (security_fixture.h): every Courier topic x publish and
// subscribe x own and other user (and device), plus wildcard filters, over
// MQTT 3.1.1 and 5; and refusals at QoS 0 and 2.
#include <set>
#include <string>
#include <vector>

#include "security_fixture.h"

namespace courier::it {
namespace {

struct Cell {
  std::string topic;
  bool allowed;
};

// Subscribe: every Courier topic of alice (own), of alice's other device,
// of bob (other), and wildcard filters. The actor is alice's device a1.
const std::vector<Cell> kSubscribeCells = {
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
    {"#", false},  // outside the prefix: deferred, and no other ACL allows it
    {"+/alice/inbox", false},
    {"+/bob/inbox", false},
    {"msg/alice/#", true},  // wildcards below the own user level: deliveries are checked
    {"msg/alice/+", true},
    {"msg/alice/devices/a1/+", true},
    {"msg/alice/devices/a1/#", true},
    {"msg/alice/+/a1/inbox", true},
};

// Publish (QoS 1): what would be stored or relayed if the ACL let it
// through carries an id "cell-<n>"; receipts name the seed's offset 1. The
// last two cells are the allowed ones: a send and a PULL.
const std::vector<Cell> kPublishCells = {
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

// What a1 publishes to `cell.topic`, with id `id`: a Message where a send
// is expected, a receipt (or, where allowed, a PULL) on signal topics, a
// forged SENDER ack elsewhere.
std::string CellPayload(const Cell& cell, const std::string& id) {
  const bool is_send = cell.topic.ends_with("/send") || cell.topic.ends_with("/inbox") || cell.topic == "msg/alice" ||
                       cell.topic.ends_with("/other") || cell.topic.ends_with("/x");
  if (cell.topic.ends_with("/signal")) {
    // A read receipt for entry 1 (alice's own DEVICE copy, bob's RECEIVER
    // copy of "seed"); on alice's own signal topic a PULL instead.
    v1::Signal s = cell.allowed ? PullRequest(0, 0) : Receipt(1, true, true);
    s.set_id(id);
    return Bytes(s);
  }
  if (is_send) {
    v1::Message m = NewMessage(id, cell.topic.starts_with("msg/bob") ? "alice" : "bob", "forged " + cell.topic);
    return Bytes(m);
  }
  v1::Signal s;  // a forged SENDER ack / notice
  s.set_id(id);
  s.set_type(kResponse);
  s.set_signal_type(kSender);
  s.set_signal_offset(1);
  s.set_signal_offset_state(true);
  return Bytes(s);
}

class AclMatrixTest : public SecurityTest, public ::testing::WithParamInterface<int> {
 protected:
  void ExpectSubscribeCells(TestClient& a1, int proto) {
    for (const auto& cell : kSubscribeCells) {
      int reason = -1;
      ASSERT_TRUE(a1.SubscribeGranted(cell.topic, 1, &reason)) << cell.topic;
      if (cell.allowed) {
        EXPECT_EQ(reason, 1) << "subscribe " << cell.topic << " should be granted (QoS 1)";
      } else {
        EXPECT_EQ(reason, Refused(proto)) << "subscribe " << cell.topic << " should be refused";
      }
    }
  }

  // Publishes every cell; adds the ids of the refused ones to `forbidden_ids`.
  void PublishCells(TestClient& a1, int proto, std::set<std::string>& forbidden_ids) {
    for (size_t i = 0; i < kPublishCells.size(); ++i) {
      const Cell& cell = kPublishCells[i];
      const std::string id = cell.allowed ? "ok-" + std::to_string(i) : "cell-" + std::to_string(i);
      const std::string bytes = CellPayload(cell, id);
      if (!cell.allowed) forbidden_ids.insert(id);
      int reason = -1;
      ASSERT_TRUE(a1.Publish(cell.topic, bytes, 1, &reason)) << cell.topic;
      if (cell.allowed) {
        EXPECT_TRUE(reason == 0 || reason == kRcNoMatchingSubscribers)
            << "publish to " << cell.topic << " should be accepted, reason 0x" << std::hex << reason;
      } else if (proto == kMqtt5) {
        EXPECT_EQ(reason, kRcNotAuthorized) << "publish to " << cell.topic << " should be refused";
      } else {
        EXPECT_EQ(reason, 0) << "MQTT 3.1.1 has no PUBACK reason";
      }
    }
  }

  // Nothing was relayed: no watcher, and not alice's own wildcard
  // subscriptions, saw a forged id, a raw publish to send/signal, or a topic
  // of another user.
  void ExpectNothingRelayed(const std::vector<TestClient*>& clients, const std::set<std::string>& forbidden_ids) {
    for (auto* c : clients) {
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
  }

  // Nothing was stored: both logs hold seed, the allowed send and sentinel,
  // and the forged receipt marked nothing.
  void ExpectNothingStored(const std::vector<TestClient*>& clients, const std::string& ok_send,
                           const std::set<std::string>& forbidden_ids) {
    for (auto* c : clients) {
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

  ASSERT_NO_FATAL_FAILURE(ExpectSubscribeCells(*a1, proto));
  std::set<std::string> forbidden_ids;
  ASSERT_NO_FATAL_FAILURE(PublishCells(*a1, proto, forbidden_ids));

  // The two allowed publishes did what they say: a stored message and a PULL.
  const std::string ok_send = "ok-" + std::to_string(kPublishCells.size() - 2);
  const std::string ok_pull = "ok-" + std::to_string(kPublishCells.size() - 1);
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

  ExpectNothingRelayed({a1, a2, b1}, forbidden_ids);
  ExpectNothingStored({a2, b1}, ok_send, forbidden_ids);
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
  for (const auto& r : b1->DrainAll()) { EXPECT_NE(IdOf(r).rfind("q", 0), 0u) << "relayed: " << Describe(r); }
  auto bob_log = PullAll(*b1);
  ASSERT_EQ(bob_log.size(), 2u);
  EXPECT_EQ(bob_log[0].id(), "own-q2");
  EXPECT_EQ(bob_log[1].id(), "sentinel");
}

}  // namespace
}  // namespace courier::it
