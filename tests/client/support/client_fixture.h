// The client tests' fixture: one broker per test (tests/integration/support),
// a Recorder that collects everything a client reports, and small helpers.
// Shared by the client_*_test.cc files, edit_client_test.cc and
// websocket_client_test.cc.
//
// Threads: Recorder's handlers run on the client's network thread and take
// its mutex; tests wait on it from the main thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "courier/client.h"
#include "support/broker.h"

namespace courier::client_test {

using namespace std::chrono_literals;
using client::Client;
using client::ConnectionState;

constexpr auto kWait = 15s;

// Collects everything a client reports; tests wait on it.
class Recorder {
 public:
  client::Handlers handlers() {
    client::Handlers h;
    h.on_message = [this](const client::Message& m) { Add([&] { messages.push_back(m); }); };
    h.on_receipt = [this](const client::Receipt& r) { Add([&] { receipts.push_back(r); }); };
    h.on_activity = [this](const client::Activity& a) { Add([&] { activities.push_back(a); }); };
    h.on_error = [this](const client::ServerError& e) { Add([&] { errors.push_back(e); }); };
    h.on_connection = [this](const client::ConnectionEvent& e) { Add([&] { connection.push_back(e); }); };
    h.on_synced = [this](int32_t head) { Add([&] { synced.push_back(head); }); };
    return h;
  }
  // handlers() that also take edit and recall entries apart (on_edit,
  // on_recall) instead of passing them to on_message.
  client::Handlers edit_handlers() {
    client::Handlers h = handlers();
    h.on_edit = [this](const client::Message& m) { Add([&] { edits.push_back(m); }); };
    h.on_recall = [this](const client::Message& m) { Add([&] { recalls.push_back(m); }); };
    return h;
  }

  // Waits until `pred` (called under the lock) holds.
  bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = kWait) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, pred);
  }
  bool WaitOnline() {
    return WaitFor([&] { return Last() == ConnectionState::kOnline; });
  }
  bool WaitSynced(size_t times = 1) {
    return WaitFor([&] { return synced.size() >= times; });
  }
  bool WaitMessages(size_t n) {
    return WaitFor([&] { return messages.size() >= n; });
  }
  std::optional<ConnectionState> Last() const {
    if (connection.empty()) return std::nullopt;
    return connection.back().state;
  }
  template <typename T>
  T Get(const T& field) {
    std::lock_guard lock(mu);
    return field;
  }

  std::mutex mu;
  std::condition_variable cv;
  std::vector<client::Message> messages;
  std::vector<client::Message> edits;    // with edit_handlers()
  std::vector<client::Message> recalls;  // with edit_handlers()
  std::vector<client::Receipt> receipts;
  std::vector<client::Activity> activities;
  std::vector<client::ServerError> errors;
  std::vector<client::ConnectionEvent> connection;
  std::vector<int32_t> synced;

 private:
  void Add(const std::function<void()>& fn) {
    {
      std::lock_guard lock(mu);
      fn();
    }
    cv.notify_all();
  }
};

inline std::vector<int32_t> Offsets(const std::vector<client::Message>& ms) {
  std::vector<int32_t> out;
  for (const auto& m : ms) out.push_back(m.offset);
  return out;
}

inline std::vector<int32_t> Range(int32_t from, int32_t to) {
  std::vector<int32_t> out;
  for (int32_t i = from; i <= to; ++i) out.push_back(i);
  return out;
}

template <typename T>
T Ready(std::future<T>& f, std::chrono::milliseconds timeout = kWait) {
  if (f.wait_for(timeout) != std::future_status::ready) {
    ADD_FAILURE() << "future not ready in time";
    return T{};
  }
  return f.get();
}

class ClientTest : public ::testing::Test {
 protected:
  virtual it::BrokerOptions BrokerOpts() const { return {}; }

  void SetUp() override {
    broker_ = std::make_unique<it::Broker>(BrokerOpts());
    ASSERT_TRUE(broker_->Start());
  }
  void TearDown() override {
    if (HasFailure()) {
      std::string log = broker_->log();
      if (log.size() > 20000) log = "...\n" + log.substr(log.size() - 20000);
      std::fprintf(stderr, "----- broker log -----\n%s\n-----\n", log.c_str());
    }
    broker_.reset();
  }

  // Options with short backoffs, so reconnects and retries are quick.
  client::Options Opts(const std::string& user, const std::string& device) const {
    client::Options o;
    o.host = "127.0.0.1";
    o.port = broker_->port();
    o.user = user;
    o.device = device;
    o.reconnect = {50ms, 500ms};
    o.retry = {200ms, 1000ms};
    o.connect_timeout = 5s;
    o.pull_timeout = 5s;
    return o;
  }

  // Sends `n` messages from a fresh sender client and waits for every ack.
  void SendFrom(const std::string& user, const std::string& to, int n, const std::string& prefix = "m") {
    client::Options o = Opts(user, user + "-sender");
    o.receive = false;
    Client c(o);
    c.start();
    std::vector<std::future<client::SendResult>> fs;
    for (int i = 0; i < n; ++i) fs.push_back(c.send(to, prefix + std::to_string(i)));
    for (auto& f : fs) {
      auto r = Ready(f);
      ASSERT_TRUE(r.ok) << r.error_code << ": " << r.error_detail;
    }
    c.close();
  }

  // alice sends to bob while the broker is down (killed with SIGKILL): no
  // one accepts it until the broker is back; then it is accepted once, at
  // offset 1 of both logs, and bob gets it once. The clients connect with
  // `alice` and `bob` (any transport).
  void SendWhileBrokerDownArrivesOnce(const client::Options& alice_opts, const client::Options& bob_opts) {
    Recorder ra, rb;
    Client alice(alice_opts, ra.handlers());
    Client bob(bob_opts, rb.handlers());
    alice.start();
    bob.start();
    ASSERT_TRUE(ra.WaitSynced());
    ASSERT_TRUE(rb.WaitSynced());

    broker().Kill9();
    ASSERT_TRUE(ra.WaitFor([&] { return ra.Last() == ConnectionState::kOffline; }));
    auto f = alice.send("bob", "sent while the broker is down");
    EXPECT_EQ(f.wait_for(300ms), std::future_status::timeout) << "nobody can have accepted it";
    EXPECT_EQ(alice.pendingSends(), 1u);

    ASSERT_TRUE(broker().Restart());
    const client::SendResult r = Ready(f);
    ASSERT_TRUE(r.ok) << r.error_code << ": " << r.error_detail;
    EXPECT_EQ(r.offset, 1);
    EXPECT_GE(r.attempts, 1);

    ASSERT_TRUE(rb.WaitFor([&] {
      return std::any_of(rb.messages.begin(), rb.messages.end(),
                         [&](const client::Message& m) { return m.id == r.id; });
    }));
    // Exactly one entry in each log, whatever the retries did.
    auto bob_head = bob.queryHead();
    EXPECT_EQ(Ready(bob_head), std::optional<int32_t>(1));
    auto alice_head = alice.queryHead();
    EXPECT_EQ(Ready(alice_head), std::optional<int32_t>(1));
    const auto got = rb.Get(rb.messages);
    EXPECT_EQ(std::count_if(got.begin(), got.end(), [&](const client::Message& m) { return m.id == r.id; }), 1);
    EXPECT_TRUE(ra.WaitOnline());
  }

  it::Broker& broker() { return *broker_; }

 private:
  std::unique_ptr<it::Broker> broker_;
};

}  // namespace courier::client_test
