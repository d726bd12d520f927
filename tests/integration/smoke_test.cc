// Harness smoke test: a plain mosquitto (no plugin), two clients, a plain
// topic. Verifies Broker and TestClient themselves, independent of Courier.
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>

#include <gtest/gtest.h>

#include "support/broker.h"
#include "support/mqtt_client.h"

namespace courier::it {
namespace {

bool ProcessExists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

TEST(HarnessSmoke, PlainBrokerRelaysAndDiesByPid) {
  BrokerOptions opts;
  opts.with_plugin = false;
  Broker broker(opts);
  ASSERT_TRUE(broker.Start());
  ASSERT_GT(broker.port(), 0);
  const pid_t pid = broker.pid();

  TestClient sub, pub;
  ASSERT_TRUE(sub.Connect(broker.port(), "smoke", "sub"));
  ASSERT_TRUE(sub.Subscribe("plain/topic"));
  ASSERT_TRUE(pub.Connect(broker.port(), "smoke", "pub"));
  ASSERT_TRUE(pub.Publish("plain/topic", std::string("hello\0world", 11)));
  auto got = sub.WaitFor([](const Received& r) { return r.topic == "plain/topic"; });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->payload, std::string("hello\0world", 11));
  EXPECT_EQ(got->qos, 1);

  // Restart on the same port; a reconnecting client resubscribes.
  broker.Kill9();
  EXPECT_FALSE(ProcessExists(pid));
  ASSERT_TRUE(broker.Restart());
  ASSERT_TRUE(sub.Reconnect(broker.port()));
  ASSERT_TRUE(pub.Reconnect(broker.port()));
  ASSERT_TRUE(pub.Publish("plain/topic", "again"));
  got = sub.WaitFor([](const Received& r) { return r.topic == "plain/topic"; });
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->payload, "again");

  const pid_t pid2 = broker.pid();
  broker.Stop();
  EXPECT_FALSE(ProcessExists(pid2));
  EXPECT_NE(broker.log().find("mosquitto version"), std::string::npos) << broker.log();
}

TEST(HarnessSmoke, WaitForCountKeepsArrivalOrder) {
  BrokerOptions opts;
  opts.with_plugin = false;
  Broker broker(opts);
  ASSERT_TRUE(broker.Start());
  TestClient c;
  ASSERT_TRUE(c.Connect(broker.port(), "smoke", "c"));
  ASSERT_TRUE(c.Subscribe("a/#"));
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(c.Publish("a/x", std::to_string(i)));
  ASSERT_TRUE(c.Publish("a/y", "sentinel"));
  auto xs = c.WaitForCount("a/x", 20);
  ASSERT_EQ(xs.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(xs[i].payload, std::to_string(i));
  ASSERT_TRUE(c.WaitFor([](const Received& r) { return r.payload == "sentinel"; }));
  EXPECT_TRUE(c.DrainTopic("a/x").empty());
}

TEST(HarnessSmoke, BrokerFailureCarriesLog) {
  BrokerOptions opts;
  opts.with_plugin = false;
  opts.extra_config = {"this_is_not_an_option 1"};
  Broker broker(opts);
  auto r = broker.Start();
  ASSERT_FALSE(r);
  EXPECT_NE(std::string(r.message()).find("this_is_not_an_option"), std::string::npos) << r.message();
  EXPECT_FALSE(broker.running());
}

}  // namespace
}  // namespace courier::it
