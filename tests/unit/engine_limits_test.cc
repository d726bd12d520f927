// Engine: rate limits, quotas and the delivery QoS option (engine_fixture.h).
#include <string>
#include <vector>

#include "engine_fixture.h"

namespace courier::core {
namespace {

using namespace engine_testing;

TEST_F(EngineTest, RateLimitedPublishIsATransientErrorAndStoresNothing) {
  for (const bool is_send : {true, false}) {
    std::string payload =
        is_send ? Msg("m9", "bob").SerializeAsString() : courier::testing::Receipt("r9", 1, false).SerializeAsString();
    Decision d = engine_.OnPublish(Inbound{.topic = is_send ? "msg/alice/send" : "msg/alice/signal",
                                           .payload = payload,
                                           .user = "alice",
                                           .client_id = "phone",
                                           .now_ms = kNow,
                                           .rate_limited = true});
    EXPECT_TRUE(d.consumed);
    EXPECT_TRUE(d.requests.empty());
    ASSERT_EQ(d.publish.size(), 1u);
    EXPECT_EQ(d.publish[0].topic, "msg/alice/devices/phone/events");
    Signal s = AsSignal(d.publish[0]);
    EXPECT_EQ(s.id(), is_send ? "m9" : "r9");
    EXPECT_EQ(s.type(), 2);
    EXPECT_FALSE(s.signal_offset_state());
    EXPECT_EQ(s.error().rfind("rate_limited: ", 0), 0u) << s.error();
  }
}

TEST_F(EngineTest, QuotaLimitIsPassedToTheStoreAndItsRefusalIsTransient) {
  CoreOptions o;
  o.max_undelivered = 7;
  Engine e(o);
  Message m = Msg("m1", "bob");
  Decision d = e.OnPublish(Inbound{.topic = "msg/alice/send",
                                   .payload = m.SerializeAsString(),
                                   .user = "alice",
                                   .client_id = "phone",
                                   .now_ms = kNow});
  ASSERT_EQ(d.requests.size(), 1u);
  auto req = std::get<AppendRequest>(d.requests[0]);
  EXPECT_EQ(req.max_undelivered, 7u);
  auto out = e.OnCompletion(storage::Completion{req, Status::Limit("bob has 7 undelivered entries"), {}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "msg/alice/devices/phone/events");
  Signal s = AsSignal(out[0]);
  EXPECT_EQ(s.type(), 2);
  EXPECT_EQ(s.error().rfind("quota_exceeded: ", 0), 0u) << s.error();
}

// Stored copies and pull answers go at delivery_qos; the ack is always QoS 0.
TEST(EngineDeliveryQos, StoredCopiesFollowTheOption) {
  for (int qos : {0, 1}) {
    SCOPED_TRACE(qos);
    CoreOptions options;
    options.delivery_qos = qos;
    Engine engine(options);
    AppendRequest req;
    req.sender = "alice";
    req.receivers = {"bob"};
    req.message.set_id("m1");
    AppendResult res;
    res.device_copy = req.message;
    res.device_copy.set_signal_type(2);
    res.receivers = {"bob"};
    res.receiver_copies = {req.message};
    auto out = engine.OnCompletion(Completion{req, Status::Ok(), res});
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(Find(out, "msg/bob/inbox")->qos, qos);
    EXPECT_EQ(Find(out, "msg/alice/inbox")->qos, qos);
    EXPECT_EQ(Find(out, "msg/alice/events")->qos, 0);

    PullRequest pull;
    pull.user = "bob";
    pull.device = "phone";
    PullResult pulled;
    pulled.head = 1;
    pulled.entries = {req.message};
    out = engine.OnCompletion(Completion{pull, Status::Ok(), pulled});
    ASSERT_EQ(out.size(), 2u);
    for (const auto& p : out) EXPECT_EQ(p.qos, qos) << p.topic;  // the response cannot overtake the entries
  }
}

}  // namespace
}  // namespace courier::core
