// Push notifications against a real broker and a real HTTP gateway on
// loopback (docs/push.md): who gets a POST and when, what it carries, the
// HMAC header, coalescing, retries, a rejected token, and a push that was
// due when the broker was killed.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "http_server.h"
#include "proc/loopback.h"
#include "push_body.h"
#include "support/feature_fixture.h"

namespace courier::it {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// The app's push gateway: records every call and answers `status`.
class Gateway {
 public:
  Gateway()
      : server_([this](const push::HttpRequest& r) {
          std::lock_guard lock(mu_);
          calls_.push_back(r);
          cv_.notify_all();
          return push::HttpResponse{.status = status_, .body = "", .delay = std::chrono::milliseconds(0)};
        }) {}

  bool Start(int port = 0) {
    std::string error;
    if (!server_.Start("127.0.0.1", port, &error)) {
      ADD_FAILURE() << "gateway: " << error;
      return false;
    }
    return true;
  }
  int port() const { return server_.port(); }
  void SetStatus(int status) {
    std::lock_guard lock(mu_);
    status_ = status;
  }
  // Waits until `n` calls arrived; returns them all.
  std::vector<push::HttpRequest> WaitCalls(size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return calls_.size() >= n; });
    return calls_;
  }
  size_t count() {
    std::lock_guard lock(mu_);
    return calls_.size();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<push::HttpRequest> calls_;
  int status_ = 200;
  push::HttpServer server_;  // last: stopped first, while the rest still exists
};

v1::Signal Registration(const std::string& app, const std::string& token) {
  v1::Signal s;
  s.set_id("reg");
  s.set_type(kRequest);
  s.mutable_push()->set_app(app);
  s.mutable_push()->set_token(token);
  return s;
}

class PushTest : public FeatureTest {
 protected:
  PushTest() { port_ = proc::PickFreePort(); }
  Opts ExtraOptions() const override {
    Opts o = {{"push_url", "http://127.0.0.1:" + std::to_string(port_) + "/push"},
              {"push_coalesce_ms", std::to_string(CoalesceMs())},
              {"push_secret", "s3cret"}};
    for (auto& kv : MoreOptions()) o.push_back(kv);
    return o;
  }
  virtual int CoalesceMs() const { return 200; }
  virtual Opts MoreOptions() const { return {}; }

  // `user`'s device `device` registers for push, then goes offline.
  void RegisterOffline(const std::string& user, const std::string& device, const std::string& token) {
    CourierDevice* d = Online(user, device);
    ASSERT_TRUE(d);
    ASSERT_TRUE(d->Signal(Registration("chat", token)));
    auto answer = d->NextDeviceEvent(SignalWithId("reg", kResponse));
    ASSERT_TRUE(answer) << d->Pending();
    EXPECT_EQ(answer->push().token(), token);
    d->Disconnect();
  }

  int port_ = 0;
  Gateway gateway_;
};

TEST_F(PushTest, OfflineDeviceGetsOnePostWithTheFieldsAndAVerifiableSignature) {
  ASSERT_TRUE(gateway_.Start(port_));
  ASSERT_NO_FATAL_FAILURE(RegisterOffline("bob", "bob-phone", "tok-1"));
  auto* a = Online("alice", "a-phone");
  ASSERT_TRUE(a);
  ASSERT_TRUE(SendAndWaitAck(*a, NewMessage("m1", "bob", "the secret text")));
  auto calls = gateway_.WaitCalls(1);
  ASSERT_EQ(calls.size(), 1u);
  const auto& call = calls[0];
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.path, "/push");
  json body = json::parse(call.body);
  EXPECT_EQ(body["user"], "bob");
  EXPECT_EQ(body["device"], "bob-phone");
  EXPECT_EQ(body["app"], "chat");
  EXPECT_EQ(body["token"], "tok-1");
  EXPECT_EQ(body["id"], "m1");
  EXPECT_EQ(body["from"], "alice");
  EXPECT_EQ(body["signal_offset"], 1);
  EXPECT_EQ(body["user_offset"], 1);
  EXPECT_EQ(body["priority"], 0);
  EXPECT_EQ(body["undelivered"], 1);
  EXPECT_EQ(body["count"], 1);
  EXPECT_FALSE(body.contains("group"));
  EXPECT_FALSE(body.contains("payload")) << "no content by default";
  EXPECT_EQ(call.body.find("secret text"), std::string::npos);
  EXPECT_EQ(call.headers.at("idempotency-key"), "bob/bob-phone/1");
  EXPECT_EQ(call.headers.at("x-courier-signature"), "sha256=" + push::HmacSha256Hex("s3cret", call.body));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(gateway_.count(), 1u) << "taken once, not again";
}

TEST_F(PushTest, ConnectedDeviceGetsNoPost) {
  ASSERT_TRUE(gateway_.Start(port_));
  auto* b = Online("bob", "bob-phone");
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->Signal(Registration("chat", "tok-1")));
  ASSERT_TRUE(b->NextDeviceEvent(SignalWithId("reg", kResponse)));
  auto* a = Online("alice", "a-phone");
  ASSERT_TRUE(a);
  ASSERT_TRUE(SendAndWaitAck(*a, NewMessage("m1", "bob", "hi")));
  ASSERT_TRUE(b->NextInbox(WithId("m1")));  // it got it live, and sends no receipt
  std::this_thread::sleep_for(1000ms);      // five coalescing windows
  EXPECT_EQ(gateway_.count(), 0u);
  // Once it is gone, the next message is pushed.
  b->Disconnect();
  ASSERT_TRUE(SendAndWaitAck(*a, NewMessage("m2", "bob", "hi again")));
  auto calls = gateway_.WaitCalls(1);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(json::parse(calls[0].body)["id"], "m2");
}

TEST_F(PushTest, GroupPushGoesToTheOfflineMemberOnly) {
  ASSERT_TRUE(gateway_.Start(port_));
  auto* admin = Admin();
  ASSERT_TRUE(admin);
  ASSERT_TRUE(admin->CreateGroup("team", {"alice", "bob", "carol"}));
  auto* b = Online("bob", "bob-phone");
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->Signal(Registration("chat", "tok-bob")));
  ASSERT_TRUE(b->NextDeviceEvent(SignalWithId("reg", kResponse)));
  ASSERT_NO_FATAL_FAILURE(RegisterOffline("carol", "carol-phone", "tok-carol"));
  auto* a = Online("alice", "a-phone");
  ASSERT_TRUE(a);
  ASSERT_TRUE(SendAndWaitAck(*a, GroupMessage("g1", "team", "hi team")));
  auto calls = gateway_.WaitCalls(1);
  ASSERT_EQ(calls.size(), 1u);
  json body = json::parse(calls[0].body);
  EXPECT_EQ(body["user"], "carol");
  EXPECT_EQ(body["group"], "team");
  std::this_thread::sleep_for(600ms);
  EXPECT_EQ(gateway_.count(), 1u) << "bob is connected";
}

class PushCoalesceTest : public PushTest {
 protected:
  int CoalesceMs() const override { return 1500; }
};

TEST_F(PushCoalesceTest, TwentyMessagesInTheWindowAreOnePostWithTheirCount) {
  ASSERT_TRUE(gateway_.Start(port_));
  ASSERT_NO_FATAL_FAILURE(RegisterOffline("bob", "bob-phone", "tok-1"));
  auto* a = Online("alice", "a-phone");
  ASSERT_TRUE(a);
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE(a->Send(NewMessage("m" + std::to_string(i), "bob", "x")));
  for (int i = 1; i <= 20; ++i) ASSERT_TRUE(a->NextEvent(SenderAckFor("m" + std::to_string(i))));
  auto calls = gateway_.WaitCalls(1);
  ASSERT_EQ(calls.size(), 1u);
  json body = json::parse(calls[0].body);
  EXPECT_EQ(body["count"], 20);
  EXPECT_EQ(body["id"], "m20") << "the call names the newest";
  EXPECT_EQ(body["undelivered"], 20);
  std::this_thread::sleep_for(2000ms);
  EXPECT_EQ(gateway_.count(), 1u);
}

TEST_F(PushTest, GatewayDownIsRetriedUntilItIsUp) {
  ASSERT_NO_FATAL_FAILURE(RegisterOffline("bob", "bob-phone", "tok-1"));
  auto* a = Online("alice", "a-phone");
  ASSERT_TRUE(a);
  ASSERT_TRUE(SendAndWaitAck(*a, NewMessage("m1", "bob", "hi")));
  std::this_thread::sleep_for(1500ms);  // the first attempts find nobody listening
  ASSERT_TRUE(gateway_.Start(port_));
  auto calls = gateway_.WaitCalls(1, 15s);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(json::parse(calls[0].body)["id"], "m1");
  // A delivery still goes on as before: the broker never waited for the gateway.
  auto* b = Online("bob", "bob-phone");
  ASSERT_TRUE(b);
  EXPECT_EQ(Ids(Pull(*b, 0).entries), (std::vector<std::string>{"m1"}));
}

TEST_F(PushTest, GoneTokenRemovesTheRegistration) {
  ASSERT_TRUE(gateway_.Start(port_));
  gateway_.SetStatus(410);
  ASSERT_NO_FATAL_FAILURE(RegisterOffline("bob", "bob-phone", "tok-dead"));
  auto* a = Online("alice", "a-phone");
  ASSERT_TRUE(a);
  ASSERT_TRUE(SendAndWaitAck(*a, NewMessage("m1", "bob", "hi")));
  ASSERT_EQ(gateway_.WaitCalls(1).size(), 1u);
  auto* admin = Admin();
  ASSERT_TRUE(admin);
  ASSERT_TRUE(Eventually([&] {
    auto r = admin->Command(json{{"command", "listPushRegistrations"}, {"user", "bob"}});
    return r && r->contains("data") && (*r)["data"]["devices"].empty();
  }));
  ASSERT_TRUE(SendAndWaitAck(*a, NewMessage("m2", "bob", "hi")));
  std::this_thread::sleep_for(800ms);
  EXPECT_EQ(gateway_.count(), 1u) << "no push to a removed registration";
}

class PushPayloadTest : public PushTest {
 protected:
  Opts MoreOptions() const override { return {{"push_payload", "true"}}; }
};

TEST_F(PushPayloadTest, ContentOnlyWhenAskedAndNeverEncryptedOrSignature) {
  ASSERT_TRUE(gateway_.Start(port_));
  ASSERT_NO_FATAL_FAILURE(RegisterOffline("bob", "bob-phone", "tok-1"));
  auto* a = Online("alice", "a-phone");
  ASSERT_TRUE(a);
  v1::Message m = NewMessage("m1", "bob", "hello");
  m.set_encrypted("c2VjcmV0");
  m.set_signature("c2lnbg==");
  ASSERT_TRUE(SendAndWaitAck(*a, m));
  auto calls = gateway_.WaitCalls(1);
  ASSERT_EQ(calls.size(), 1u);
  json body = json::parse(calls[0].body);
  EXPECT_EQ(body["payload"], push::Base64("hello"));
  EXPECT_FALSE(body.contains("encrypted"));
  EXPECT_FALSE(body.contains("signature"));
  EXPECT_EQ(calls[0].body.find("c2VjcmV0"), std::string::npos);
}

class PushCrashTest : public PushTest {
 protected:
  int CoalesceMs() const override { return 3000; }
};

TEST_F(PushCrashTest, PushDueAtKill9IsSentAfterTheRestart) {
  ASSERT_TRUE(gateway_.Start(port_));
  ASSERT_NO_FATAL_FAILURE(RegisterOffline("bob", "bob-phone", "tok-1"));
  auto* a = Online("alice", "a-phone");
  ASSERT_TRUE(a);
  DropAdmin();
  ASSERT_TRUE(SendAndWaitAck(*a, NewMessage("m1", "bob", "hi")));
  ASSERT_TRUE(CrashAndRestart());  // inside the coalescing window: nothing was posted
  EXPECT_EQ(gateway_.count(), 0u);
  auto calls = gateway_.WaitCalls(1, 15s);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(json::parse(calls[0].body)["id"], "m1");
}

}  // namespace
}  // namespace courier::it
