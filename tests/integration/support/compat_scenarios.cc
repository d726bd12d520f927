#include "support/compat_scenarios.h"

#include <algorithm>
#include <map>
#include <memory>
#include <thread>

namespace courier::it {
namespace {

using namespace std::chrono_literals;

// How long "nothing more arrives" is watched for, and the longest wait for
// something that must arrive.
constexpr auto kQuiet = 400ms;
constexpr std::chrono::milliseconds kMustArrive = 10s;
constexpr int kNotAuthorized = 0x87;
constexpr int kNoSubscribers = 0x10;

std::string Rc(std::optional<int> rc) { return rc ? std::to_string(*rc) : "none"; }

std::string Line(const std::string& who, const Delivery& d) {
  std::string s = who + " <- " + d.topic + " '" + d.payload + "' q" + std::to_string(d.qos) + " r" +
                  std::to_string(d.retain ? 1 : 0);
  for (const auto& [k, v] : d.props.user) s += " up:" + k + "=" + v;
  if (!d.props.content_type.empty()) s += " ct:" + d.props.content_type;
  if (!d.props.response_topic.empty()) s += " rt:" + d.props.response_topic;
  if (!d.props.correlation.empty()) s += " cd:" + d.props.correlation;
  if (d.props.payload_format >= 0) s += " pfi:" + std::to_string(d.props.payload_format);
  // The broker forwards the remaining lifetime: record that it is there and
  // not above what was sent (60 in every scenario that sets it).
  if (d.props.message_expiry) s += d.props.message_expiry <= 60 ? " expiry<=60" : " expiry>60";
  return s;
}

// One scenario's run against one broker: clients it opened and the lines.
class Run {
 public:
  explicit Run(DeployedBroker& b) : b_(b) {}

  CompatClient* Open(const std::string& user, const std::string& id, const ConnectSpec* spec = nullptr) {
    ConnectSpec s = spec ? *spec : b_.Login(user, id);
    if (spec) {
      ConnectSpec login = b_.Login(user, id);
      s.username = login.username;
      s.password = login.password;
      s.client_id = id;
    }
    auto c = std::make_unique<CompatClient>();
    auto r = c->Connect(b_.port(), s);
    if (!r) {
      out_.push_back("connect " + id + " failed: " + r.message());
      return nullptr;
    }
    clients_[id] = std::move(c);
    return clients_[id].get();
  }
  CompatClient* Get(const std::string& id) { return clients_.count(id) ? clients_[id].get() : nullptr; }

  void Sub(const std::string& id, const std::string& filter, int qos) {
    auto* c = Get(id);
    out_.push_back("sub " + id + " " + filter + " -> " + (c ? Rc(c->Subscribe(filter, qos)) : "no client"));
  }
  void Pub(const std::string& id, const std::string& topic, const std::string& payload, int qos, bool retain = false,
           const Props& props = {}) {
    auto* c = Get(id);
    out_.push_back("pub " + id + " " + (topic.empty() ? "(alias)" : topic) + " q" + std::to_string(qos) +
                   (retain ? " retained" : "") + " -> " +
                   (c ? Rc(c->Publish(topic, payload, qos, retain, props)) : "no client"));
  }
  // Waits for `n` deliveries to `id`, then a quiet period for any extra;
  // records them sorted (arrival order across topics is not part of MQTT's
  // contract, except per topic, which the payloads' order shows).
  void Recv(const std::string& id, size_t n) {
    auto* c = Get(id);
    if (!c) return;
    auto got = c->Take(n, n ? kMustArrive : kQuiet);
    std::this_thread::sleep_for(n ? kQuiet / 2 : 0ms);
    for (auto& d : c->Take(0, 0ms)) got.push_back(std::move(d));
    std::vector<std::string> lines;
    for (const auto& d : got) lines.push_back(Line(id, d));
    std::stable_sort(lines.begin(), lines.end());
    if (lines.empty()) lines.push_back(id + " <- nothing");
    out_.insert(out_.end(), lines.begin(), lines.end());
  }
  void Note(std::string s) { out_.push_back(std::move(s)); }
  void Close(const std::string& id) {
    if (auto* c = Get(id)) c->Disconnect();
    clients_.erase(id);
  }
  void CloseWithWill(const std::string& id) {
    if (auto* c = Get(id)) c->DisconnectWithWill();
    clients_.erase(id);
  }
  Outcome Take() {
    clients_.clear();
    return std::move(out_);
  }

 private:
  DeployedBroker& b_;
  std::map<std::string, std::unique_ptr<CompatClient>> clients_;
  Outcome out_;
};

std::string Sub(const std::string& id, const std::string& filter, int rc) {
  return "sub " + id + " " + filter + " -> " + std::to_string(rc);
}
std::string Pub(const std::string& id, const std::string& topic, int qos, int rc, bool retain = false) {
  return "pub " + id + " " + topic + " q" + std::to_string(qos) + (retain ? " retained" : "") + " -> " +
         std::to_string(rc);
}
std::string Got(const std::string& id, const std::string& rest) { return id + " <- " + rest; }

// ---------------------------------------------------------------- scenarios

Outcome QosLevels(DeployedBroker& b) {
  Run r(b);
  r.Open("bob", "bob-q");
  r.Open("alice", "alice-q");
  r.Sub("bob-q", "app/qos/#", 2);
  r.Sub("bob-q", "app/qos1/#", 1);
  r.Pub("alice-q", "app/qos/0", "zero", 0);
  r.Pub("alice-q", "app/qos/1", "one", 1);
  r.Pub("alice-q", "app/qos/2", "two", 2);
  r.Pub("alice-q", "app/qos1/2", "capped", 2);  // delivered at the subscription's QoS 1
  r.Recv("bob-q", 4);
  return r.Take();
}
Outcome QosLevelsExpected(Deployment) {
  return {Sub("bob-q", "app/qos/#", 2),           Sub("bob-q", "app/qos1/#", 1),
          Pub("alice-q", "app/qos/0", 0, 0),      Pub("alice-q", "app/qos/1", 1, 0),
          Pub("alice-q", "app/qos/2", 2, 0),      Pub("alice-q", "app/qos1/2", 2, 0),
          Got("bob-q", "app/qos/0 'zero' q0 r0"), Got("bob-q", "app/qos/1 'one' q1 r0"),
          Got("bob-q", "app/qos/2 'two' q2 r0"),  Got("bob-q", "app/qos1/2 'capped' q1 r0")};
}

Outcome Retained(DeployedBroker& b) {
  Run r(b);
  r.Open("alice", "alice-r");
  r.Pub("alice-r", "app/ret/state", "on", 1, true);  // nobody subscribed yet
  r.Open("bob", "bob-r");
  r.Sub("bob-r", "app/ret/#", 1);
  r.Recv("bob-r", 1);                              // the retained copy
  r.Pub("alice-r", "app/ret/state", "", 1, true);  // clears it; bob gets it live
  r.Recv("bob-r", 1);
  r.Open("carol", "carol-r");
  r.Sub("carol-r", "app/ret/#", 1);
  r.Recv("carol-r", 0);  // nothing retained any more
  return r.Take();
}
Outcome RetainedExpected(Deployment) {
  return {Pub("alice-r", "app/ret/state", 1, kNoSubscribers, true),
          Sub("bob-r", "app/ret/#", 1),
          Got("bob-r", "app/ret/state 'on' q1 r1"),
          Pub("alice-r", "app/ret/state", 1, 0, true),
          Got("bob-r", "app/ret/state '' q1 r0"),
          Sub("carol-r", "app/ret/#", 1),
          Got("carol-r", "nothing")};
}

Outcome Wills(DeployedBroker& b) {
  Run r(b);
  r.Open("bob", "bob-w");
  r.Sub("bob-w", "app/will/#", 1);
  ConnectSpec with_will{.will_topic = "app/will/alice", .will_payload = "alice gone", .will_qos = 1};
  r.Open("alice", "alice-w", &with_will);
  r.CloseWithWill("alice-w");
  r.Recv("bob-w", 1);
  ConnectSpec clean_exit{.will_topic = "app/will/carol", .will_payload = "carol gone", .will_qos = 1};
  r.Open("carol", "carol-w", &clean_exit);
  r.Close("carol-w");  // a normal DISCONNECT discards the will
  r.Recv("bob-w", 0);
  return r.Take();
}
Outcome WillsExpected(Deployment) {
  return {Sub("bob-w", "app/will/#", 1), Got("bob-w", "app/will/alice 'alice gone' q1 r0"), Got("bob-w", "nothing")};
}

Outcome OfflineQueue(DeployedBroker& b) {
  Run r(b);
  ConnectSpec persistent{.clean_start = false, .session_expiry = 300};
  r.Open("bob", "bob-o", &persistent);
  r.Sub("bob-o", "app/queue/#", 1);
  r.Close("bob-o");
  r.Open("alice", "alice-o");
  r.Pub("alice-o", "app/queue/1", "first", 1);
  r.Pub("alice-o", "app/queue/2", "second", 2);
  r.Pub("alice-o", "app/queue/q0", "not queued", 0);  // QoS 0 is not queued for offline clients
  Props short_lived;
  short_lived.message_expiry = 1;
  r.Pub("alice-o", "app/queue/expiring", "expires", 1, false, short_lived);
  std::this_thread::sleep_for(2100ms);  // past the 1 s expiry
  auto* bob = r.Open("bob", "bob-o", &persistent);
  r.Note(std::string("bob-o session present: ") + (bob && bob->session_present() ? "yes" : "no"));
  r.Recv("bob-o", 2);
  return r.Take();
}
Outcome OfflineQueueExpected(Deployment) {
  return {Sub("bob-o", "app/queue/#", 1),
          Pub("alice-o", "app/queue/1", 1, 0),
          Pub("alice-o", "app/queue/2", 2, 0),
          Pub("alice-o", "app/queue/q0", 0, 0),
          Pub("alice-o", "app/queue/expiring", 1, 0),
          "bob-o session present: yes",
          Got("bob-o", "app/queue/1 'first' q1 r0"),
          Got("bob-o", "app/queue/2 'second' q1 r0")};
}

Outcome Sys(DeployedBroker& b) {
  Run r(b);
  r.Open("bob", "bob-s");
  r.Sub("bob-s", "$SYS/broker/version", 0);
  auto* bob = r.Get("bob-s");
  auto got = bob ? bob->Take(1, 3s) : std::vector<Delivery>{};
  for (auto& d : got) {
    // The version string is the installed broker's; keep only its shape.
    if (d.payload.rfind("mosquitto version 2.", 0) == 0) d.payload = "mosquitto version 2.x";
    r.Note(Line("bob-s", d));
  }
  if (got.empty()) r.Note("bob-s <- nothing");
  r.Open("alice", "alice-s");
  r.Pub("alice-s", "$SYS/broker/fake", "x", 1);  // the broker itself refuses writes to $SYS
  return r.Take();
}
Outcome SysExpected(Deployment d) {
  // dynamic security checks subscriptions (no role grants $SYS: refused);
  // acl_file checks only deliveries (granted, but nothing arrives).
  const bool dynsec = d == Deployment::kDynsecFirst || d == Deployment::kDynsecLast;
  Outcome o = {Sub("bob-s", "$SYS/broker/version", dynsec ? kNotAuthorized : 0)};
  o.push_back(Restricted(d) ? Got("bob-s", "nothing")
                            : Got("bob-s", "$SYS/broker/version 'mosquitto version 2.x' q0 r1"));
  o.push_back(Pub("alice-s", "$SYS/broker/fake", 1, kNotAuthorized));
  return o;
}

Outcome Shared(DeployedBroker& b) {
  Run r(b);
  r.Open("bob", "bob-sh");
  r.Open("carol", "carol-sh");
  r.Sub("bob-sh", "$share/grp/app/shared/#", 1);
  r.Sub("carol-sh", "$share/grp/app/shared/#", 1);
  r.Open("alice", "alice-sh");
  for (int i = 0; i < 6; ++i) r.Pub("alice-sh", "app/shared/" + std::to_string(i), "n" + std::to_string(i), 1);
  // Each message goes to exactly one member; which one is the broker's
  // choice, so the outcome is the union, plus whether both got some.
  std::vector<std::string> all;
  size_t members_with_some = 0;
  for (const char* id : {"bob-sh", "carol-sh"}) {
    auto* c = r.Get(id);
    if (!c) continue;
    auto got = c->Take(3, 3s);  // round robin: three each
    members_with_some += !got.empty();
    for (const auto& d : got) all.push_back(Line("group", d));
  }
  std::this_thread::sleep_for(kQuiet);
  for (const char* id : {"bob-sh", "carol-sh"}) {
    if (auto* c = r.Get(id)) {
      for (const auto& d : c->Take(0, 0ms)) all.push_back(Line("group", d));
    }
  }
  std::sort(all.begin(), all.end());
  for (auto& l : all) r.Note(l);
  r.Note("members that got some: " + std::to_string(members_with_some));
  return r.Take();
}
Outcome SharedExpected(Deployment) {
  Outcome o = {Sub("bob-sh", "$share/grp/app/shared/#", 1), Sub("carol-sh", "$share/grp/app/shared/#", 1)};
  for (int i = 0; i < 6; ++i) o.push_back(Pub("alice-sh", "app/shared/" + std::to_string(i), 1, 0));
  for (int i = 0; i < 6; ++i)
    o.push_back(Got("group", "app/shared/" + std::to_string(i) + " 'n" + std::to_string(i) + "' q1 r0"));
  o.push_back("members that got some: 2");
  return o;
}

Outcome Properties(DeployedBroker& b) {
  Run r(b);
  r.Open("bob", "bob-p");
  r.Open("alice", "alice-p");
  r.Sub("bob-p", "app/props/request", 1);
  r.Sub("alice-p", "app/props/reply", 1);
  Props req;
  req.user = {{"k1", "v1"}, {"k2", "v2"}};
  req.content_type = "text/plain";
  req.response_topic = "app/props/reply";
  req.correlation = "corr-1";
  req.payload_format = 1;
  req.message_expiry = 60;
  r.Pub("alice-p", "app/props/request", "ping", 1, false, req);
  r.Recv("bob-p", 1);
  Props reply;
  reply.correlation = "corr-1";
  r.Pub("bob-p", "app/props/reply", "pong", 1, false, reply);
  r.Recv("alice-p", 1);
  return r.Take();
}
Outcome PropertiesExpected(Deployment) {
  return {Sub("bob-p", "app/props/request", 1),
          Sub("alice-p", "app/props/reply", 1),
          Pub("alice-p", "app/props/request", 1, 0),
          Got("bob-p",
              "app/props/request 'ping' q1 r0 up:k1=v1 up:k2=v2 ct:text/plain rt:app/props/reply cd:corr-1 pfi:1 "
              "expiry<=60"),
          Pub("bob-p", "app/props/reply", 1, 0),
          Got("alice-p", "app/props/reply 'pong' q1 r0 cd:corr-1")};
}

Outcome TopicAliases(DeployedBroker& b) {
  Run r(b);
  r.Open("bob", "bob-a");
  r.Open("alice", "alice-a");
  r.Sub("bob-a", "app/alias/#", 1);
  Props alias;
  alias.topic_alias = 1;
  r.Pub("alice-a", "app/alias/long/topic/name", "first", 1, false, alias);  // sets alias 1
  r.Pub("alice-a", "", "second", 1, false, alias);                          // uses it
  r.Recv("bob-a", 2);
  return r.Take();
}
Outcome TopicAliasesExpected(Deployment) {
  return {Sub("bob-a", "app/alias/#", 1), Pub("alice-a", "app/alias/long/topic/name", 1, 0),
          "pub alice-a (alias) q1 -> 0", Got("bob-a", "app/alias/long/topic/name 'first' q1 r0"),
          Got("bob-a", "app/alias/long/topic/name 'second' q1 r0")};
}

// The deployment's own rules for topics outside msg/ still hold.
Outcome AccessRules(DeployedBroker& b) {
  Run r(b);
  r.Open("bob", "bob-x");
  r.Open("alice", "alice-x");
  r.Open("sensor", "sensor-x");
  r.Sub("bob-x", "app/#", 1);
  r.Sub("bob-x", "sensors/#", 1);
  r.Sub("alice-x", "forbidden/#", 1);
  r.Pub("alice-x", "forbidden/x", "f", 1);
  r.Pub("bob-x", "app/private/x", "p", 1);
  r.Pub("sensor-x", "sensors/temp", "21", 1);
  r.Pub("alice-x", "sensors/fake", "99", 1);
  r.Pub("alice-x", "app/open", "o", 1);
  r.Recv("bob-x", Restricted(b.deployment()) ? 2 : 4);
  r.Recv("alice-x", Restricted(b.deployment()) ? 0 : 1);
  return r.Take();
}
Outcome AccessRulesExpected(Deployment d) {
  if (!Restricted(d)) {
    return {Sub("bob-x", "app/#", 1),
            Sub("bob-x", "sensors/#", 1),
            Sub("alice-x", "forbidden/#", 1),
            Pub("alice-x", "forbidden/x", 1, 0),
            Pub("bob-x", "app/private/x", 1, 0),
            Pub("sensor-x", "sensors/temp", 1, 0),
            Pub("alice-x", "sensors/fake", 1, 0),
            Pub("alice-x", "app/open", 1, 0),
            Got("bob-x", "app/open 'o' q1 r0"),
            Got("bob-x", "app/private/x 'p' q1 r0"),
            Got("bob-x", "sensors/fake '99' q1 r0"),
            Got("bob-x", "sensors/temp '21' q1 r0"),
            Got("alice-x", "forbidden/x 'f' q1 r0")};
  }
  const bool dynsec = d != Deployment::kPasswordAclFile;
  return {Sub("bob-x", "app/#", 1),
          Sub("bob-x", "sensors/#", 1),
          Sub("alice-x", "forbidden/#", dynsec ? kNotAuthorized : 1),  // acl_file never checks subscriptions
          Pub("alice-x", "forbidden/x", 1, kNotAuthorized),
          Pub("bob-x", "app/private/x", 1, kNotAuthorized),
          Pub("sensor-x", "sensors/temp", 1, 0),
          Pub("alice-x", "sensors/fake", 1, kNotAuthorized),
          Pub("alice-x", "app/open", 1, 0),
          Got("bob-x", "app/open 'o' q1 r0"),
          Got("bob-x", "sensors/temp '21' q1 r0"),
          Got("alice-x", "nothing")};
}

}  // namespace

const std::vector<Scenario>& CompatScenarios() {
  static const std::vector<Scenario> all = {
      {"QosLevels", QosLevels, QosLevelsExpected},
      {"Retained", Retained, RetainedExpected},
      {"Wills", Wills, WillsExpected},
      {"OfflineQueueAndExpiry", OfflineQueue, OfflineQueueExpected},
      {"Sys", Sys, SysExpected},
      {"SharedSubscriptions", Shared, SharedExpected},
      {"Mqtt5Properties", Properties, PropertiesExpected},
      {"TopicAliases", TopicAliases, TopicAliasesExpected},
      {"AccessRules", AccessRules, AccessRulesExpected},
  };
  return all;
}

}  // namespace courier::it
