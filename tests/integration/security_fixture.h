// The fixture of the security tests (protocol.md "Identity", "Topics";
// docs/security.md): a real mosquitto with password_file authentication and
// the Courier plugin, logins for every account of the password file, and
// helpers that send, wait and PULL whole logs.
//
// The tests, by topic:
//  - security_acl_test.cc: the ACL matrix: every Courier topic x publish and
//    subscribe x own and other user (and device), plus wildcard filters,
//    over MQTT 3.1.1 and 5. Every cell is asserted: a refused subscription
//    is SUBACK 0x80 (3.1.1) / 0x87 (5); a refused QoS 1 publish is PUBACK
//    0x87 on MQTT 5, and on any protocol nothing of it is relayed (watchers
//    on every topic of both users see nothing) and nothing is stored (PULLs
//    of both logs).
//  - security_identity_test.cc: a spoofed `from` is delivered as the real
//    sender; nobody can receipt another user's entries.
//  - security_names_test.cc: unusable names (no username, '+', '/', '#' in
//    the username or client id) and an "admin" user get no access to the
//    namespace; authentication is Mosquitto's.
//  - security_admin_api_test.cc: the admin API ($CONTROL/courier/v1):
//    without plugin_opt_admin_users nobody may use it; with it, only the
//    listed users, and each reply goes to the asking client only.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
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

// Every account of the password file. Nobody is special: there is no admin
// in Courier, and "admin" is an ordinary user name.
inline const std::vector<std::string> kUsers = {"alice", "bob", "carol", "admin", "sl", "sl/ash", "ev+il", "ha#sh"};

inline std::string Password(const std::string& user) { return user + "-secret"; }

inline int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline int Refused(int protocol) { return protocol == kMqtt5 ? kRcNotAuthorized : kSubackFailure311; }

inline std::optional<v1::Message> AsMessage(const Received& r) { return ParseMessage(r.payload); }
inline std::optional<v1::Signal> AsSignal(const Received& r) { return ParseSignal(r.payload); }

// The id a received publish carries, decoded by topic kind.
inline std::string IdOf(const Received& r) {
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
      ASSERT_TRUE(RunProgram(argv, std::chrono::seconds(30))) << "mosquitto_passwd for '" << user << "'";
      first = false;
    }
    BrokerOptions o;
    o.extra_config = {AllowAnonymous() ? "allow_anonymous true" : "allow_anonymous false", "password_file " + passwd};
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
    auto r = clients_.back()->Connect(broker_->port(), {.username = user,
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
    for (const auto& t :
         {InboxTopic(user), EventsTopic(user), DeviceInboxTopic(user, client_id), DeviceEventsTopic(user, client_id)}) {
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
      return rec.topic == EventsTopic(c.login().username) && s && s->id() == m.id() && s->type() == kResponse &&
             s->signal_type() == kSender;
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

// Probes one connected client: none of these filters or topics is allowed.
inline void ExpectNoAccess(TestClient& c, const std::vector<std::string>& filters,
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

}  // namespace courier::it
