// Tick fallback: Mosquitto 2.0 sends no MOSQ_EVT_TICK with
// `per_listener_settings true`, so group commit on the tick never happens.
// The plugin then commits in the message callback once no tick came for 2 s,
// and logs a warning once. A broker configured that way must still
// acknowledge and deliver every message.
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "support/admin_client.h"
#include "support/broker.h"
#include "support/device.h"
#include "support/durability.h"
#include "support/fixture.h"

namespace courier::it {
namespace {

using namespace std::chrono_literals;

constexpr const char* kWarning = "courier: no tick event from the broker";

BrokerOptions PerListenerSettings() {
  BrokerOptions options;
  // Written before the listener; the plugin line comes after it, so the
  // plugin belongs to that listener.
  options.pre_config = {"per_listener_settings true"};
  return options;
}

std::string LogTail(const Broker& b) {
  std::string log = b.log();
  return log.size() > 6000 ? "...\n" + log.substr(log.size() - 6000) : log;
}

// A client that sends one message and waits must get its ack: nothing else
// may have to happen on the broker first.
TEST(TickFallbackTest, FirstMessageIsAcknowledgedWithoutARetry) {
  Broker broker(PerListenerSettings());
  ASSERT_TRUE(broker.Start());
  CourierDevice a1(broker.port(), "alice", "a1");
  CourierDevice b1(broker.port(), "bob", "b1");
  ASSERT_TRUE(a1.Connect());
  ASSERT_TRUE(b1.Connect());
  auto ack = SendAndWaitOutcome(a1, NewMessage("t1", "bob", "one"));
  ASSERT_TRUE(ack) << "the only message sent got no ack within " << kWait.count() << " ms (nothing committed it)\n"
                   << LogTail(broker);
  EXPECT_TRUE(IsSenderAck(*ack)) << Describe(*ack);
  EXPECT_TRUE(b1.NextInbox(WithId("t1"))) << b1.Pending();
}

// An admin request is answered on its own too: no client message needs to
// follow it to get it committed.
TEST(TickFallbackTest, AdminRequestIsAnsweredWithoutAnyMessage) {
  BrokerOptions options = PerListenerSettings();
  options.plugin_opts.push_back({"admin_users", "admin"});
  Broker broker(options);
  ASSERT_TRUE(broker.Start());
  AdminClient admin(broker.port(), "admin", "admin-cli");
  ASSERT_TRUE(admin.Connect());
  EXPECT_TRUE(admin.CreateGroup("g", {"alice", "bob"})) << LogTail(broker);
  auto listed = admin.Command({{"command", "listGroups"}});
  ASSERT_TRUE(listed) << "no answer to listGroups\n" << LogTail(broker);
  EXPECT_EQ((*listed)["data"]["groups"], AdminClient::json::array({"g"})) << listed->dump();
}

// A client that retries (the protocol's client) gets every message acked and
// delivered in order, and the warning is logged once.
TEST(TickFallbackTest, AcknowledgesAndDeliversAndWarnsOnce) {
  Broker broker(PerListenerSettings());
  ASSERT_TRUE(broker.Start());
  CourierDevice a1(broker.port(), "alice", "a1");
  CourierDevice b1(broker.port(), "bob", "b1");
  ASSERT_TRUE(a1.Connect());
  ASSERT_TRUE(b1.Connect());

  // The first message: resent every 500 ms (same id) until acked, at most 20 s.
  v1::Message first = NewMessage("t0", "bob", "zero");
  std::optional<v1::Signal> ack;
  for (int attempt = 0; attempt < 40 && !ack; ++attempt) {
    ASSERT_TRUE(a1.Send(first));
    ack = SendOutcome(a1, first.id(), 500ms);
  }
  ASSERT_TRUE(ack) << LogTail(broker);
  ASSERT_TRUE(IsSenderAck(*ack)) << Describe(*ack);
  EXPECT_EQ(ack->signal_offset(), 1);

  // From now on every message is committed as it arrives.
  constexpr int kCount = 20;
  for (int i = 1; i <= kCount; ++i) {
    auto a = SendAndWaitOutcome(a1, NewMessage("t" + std::to_string(i), "bob", std::to_string(i)));
    ASSERT_TRUE(a) << "message t" << i << ": no ack\n" << a1.Pending();
    ASSERT_TRUE(IsSenderAck(*a)) << Describe(*a);
    EXPECT_EQ(a->signal_offset(), i + 1);
    EXPECT_EQ(a->user_offset(), i + 1);
  }
  auto got = b1.client().WaitForCount(b1.inbox(), kCount + 1);
  ASSERT_EQ(got.size(), size_t{kCount + 1}) << b1.Pending();
  for (int i = 0; i <= kCount; ++i) {
    auto m = ParseMessage(got[i].payload);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->id(), "t" + std::to_string(i));
    EXPECT_EQ(m->signal_offset(), i + 1);
  }
  a1.Disconnect();
  b1.Disconnect();
  std::string line;
  EXPECT_EQ(CountLines(broker.log(), kWarning, &line), 1u) << LogTail(broker);
  std::printf("[tick-fallback] %s\n", line.c_str());
}

// Control: with per_listener_settings false (the default) there are ticks,
// and no warning.
TEST(TickFallbackTest, NoWarningWhenTicksArrive) {
  Broker broker;
  ASSERT_TRUE(broker.Start());
  CourierDevice a1(broker.port(), "alice", "a1");
  ASSERT_TRUE(a1.Connect());
  for (int i = 1; i <= 5; ++i) {
    auto a = SendAndWaitOutcome(a1, NewMessage("n" + std::to_string(i), "bob", "x"));
    ASSERT_TRUE(Acked(a, a1));
  }
  a1.Disconnect();
  EXPECT_EQ(CountLines(broker.log(), kWarning), 0u);
}

}  // namespace
}  // namespace courier::it
