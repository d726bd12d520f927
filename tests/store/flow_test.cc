// Engine and a real store together, no broker, on every engine: each inbound
// publish goes through OnPublish -> Submit -> Flush -> OnCompletion, as the
// plugin's shell drives it, and the tests look at what would be published.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "flow_fixture.h"
#include "plugin_options.h"

namespace courier {
namespace {

using core::Publish;
using courier::testing::AckIn;
using courier::testing::AsMessage;
using courier::testing::AsSignal;
using courier::testing::FlowTest;
using courier::testing::Msg;
using courier::testing::On;
using courier::testing::TopicsOf;
using courier::v1::Message;
using courier::v1::Signal;

COURIER_STORE_ENGINES(FlowTest);

TEST_P(FlowTest, SendDeliversStoresAndAcks) {
  auto out = Send("alice", "phone", Msg("m1", "bob", "hi bob"));
  ASSERT_EQ(out.size(), 3u) << ::testing::PrintToString(TopicsOf(out));

  auto to_bob = On(out, "msg/bob/inbox");
  ASSERT_EQ(to_bob.size(), 1u);
  Message r = AsMessage(to_bob[0]);
  EXPECT_EQ(r.id(), "m1");
  EXPECT_EQ(r.payload(), "hi bob");
  EXPECT_EQ(r.signal_type(), 3);
  EXPECT_EQ(r.signal_offset(), 1);
  EXPECT_EQ(r.user_offset(), 1);
  EXPECT_EQ(r.from().user(), "alice");
  EXPECT_EQ(r.from().device(), "phone");
  EXPECT_GT(r.server_timestamp(), 0);

  auto to_alice = On(out, "msg/alice/inbox");
  ASSERT_EQ(to_alice.size(), 1u);
  Message d = AsMessage(to_alice[0]);
  EXPECT_EQ(d.signal_type(), 2);
  EXPECT_EQ(d.signal_offset(), 1);
  EXPECT_EQ(d.user_offset(), 1);

  Signal ack = AckIn(out, "alice");
  EXPECT_EQ(ack.id(), "m1");
  EXPECT_EQ(ack.signal_offset(), 1);
  EXPECT_EQ(ack.user_offset(), 1);

  // bob answers: offsets are per log, user_offset per conversation.
  out = Send("bob", "laptop", Msg("b1", "alice", "hi alice"));
  auto back = On(out, "msg/alice/inbox");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(AsMessage(back[0]).signal_offset(), 2);
  EXPECT_EQ(AsMessage(back[0]).user_offset(), 2);
  ack = AckIn(out, "bob");
  EXPECT_EQ(ack.signal_offset(), 2);
  EXPECT_EQ(ack.user_offset(), 2);
}

TEST_P(FlowTest, RejectedSendStoresNothing) {
  auto out = Send("alice", "phone", Msg("", "bob"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "msg/alice/devices/phone/events");
  EXPECT_EQ(AsSignal(out[0]).type(), 3);
  // The next good message still starts at 1.
  out = Send("alice", "phone", Msg("m1", "bob"));
  EXPECT_EQ(AckIn(out, "alice").signal_offset(), 1);
}

TEST_P(FlowTest, TwoDevicesOfTheSenderStayInSync) {
  auto out = Send("alice", "phone", Msg("m1", "bob"));
  auto own = On(out, "msg/alice/inbox");
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(AsMessage(own[0]).from().device(), "phone");
  EXPECT_EQ(AsMessage(own[0]).signal_offset(), 1);

  out = Send("alice", "tablet", Msg("m2", "bob"));
  own = On(out, "msg/alice/inbox");
  ASSERT_EQ(own.size(), 1u);
  Message copy = AsMessage(own[0]);
  EXPECT_EQ(copy.from().device(), "tablet");
  EXPECT_EQ(copy.signal_type(), 2);
  EXPECT_EQ(copy.signal_offset(), 2);
  EXPECT_EQ(copy.user_offset(), 2);
  EXPECT_EQ(AckIn(out, "alice").signal_offset(), 2);
  auto to_bob = On(out, "msg/bob/inbox");
  ASSERT_EQ(to_bob.size(), 1u);
  EXPECT_EQ(AsMessage(to_bob[0]).signal_offset(), 2);

  // A third device that was offline catches up with a pull of its user's log.
  out = Signals("alice", "desktop", courier::testing::PullSignal("sync", 0, 10));
  auto pulled = On(out, "msg/alice/devices/desktop/inbox");
  ASSERT_EQ(pulled.size(), 2u);
  EXPECT_EQ(AsMessage(pulled[0]).id(), "m1");
  EXPECT_EQ(AsMessage(pulled[0]).from().device(), "phone");
  EXPECT_EQ(AsMessage(pulled[1]).id(), "m2");
  EXPECT_EQ(AsMessage(pulled[1]).from().device(), "tablet");
}

TEST_P(FlowTest, ReceiptsReceivedThenReadNeverBackwards) {
  Send("alice", "phone", Msg("m0", "carol"));           // alice 1
  auto out = Send("alice", "phone", Msg("m1", "bob"));  // alice 2, bob 1
  ASSERT_EQ(AckIn(out, "alice").signal_offset(), 2);

  out = Signals("bob", "laptop", courier::testing::Receipt("m1", 1, false));
  ASSERT_EQ(out.size(), 2u) << ::testing::PrintToString(TopicsOf(out));
  auto to_sender = On(out, "msg/alice/events");
  ASSERT_EQ(to_sender.size(), 1u);
  Signal s = AsSignal(to_sender[0]);
  EXPECT_EQ(s.id(), "m1");
  EXPECT_EQ(s.signal_type(), 3);
  EXPECT_EQ(s.signal_offset(), 2);  // alice's offset of m1
  EXPECT_EQ(s.user_offset(), 1);
  EXPECT_TRUE(s.signal_ack_state().received());
  EXPECT_FALSE(s.signal_ack_state().read());
  EXPECT_EQ(s.from().user(), "bob");
  auto to_reader = On(out, "msg/bob/events");
  ASSERT_EQ(to_reader.size(), 1u);
  Signal d = AsSignal(to_reader[0]);
  EXPECT_EQ(d.signal_type(), 2);
  EXPECT_EQ(d.signal_offset(), 1);  // bob's offset
  EXPECT_TRUE(d.signal_ack_state().received());
  EXPECT_FALSE(d.signal_ack_state().read());

  // Repeated: silent.
  EXPECT_TRUE(Signals("bob", "laptop", courier::testing::Receipt("m1", 1, false)).empty());

  out = Signals("bob", "phone", courier::testing::Receipt("m1", 1, true));
  ASSERT_EQ(out.size(), 2u);
  s = AsSignal(On(out, "msg/alice/events").at(0));
  EXPECT_EQ(s.signal_offset(), 2);
  EXPECT_TRUE(s.signal_ack_state().received());
  EXPECT_TRUE(s.signal_ack_state().read());
  d = AsSignal(On(out, "msg/bob/events").at(0));
  EXPECT_TRUE(d.signal_ack_state().read());

  // Never backwards, and silent.
  EXPECT_TRUE(Signals("bob", "laptop", courier::testing::Receipt("m1", 1, false)).empty());
  EXPECT_TRUE(Signals("bob", "laptop", courier::testing::Receipt("m1", 1, true)).empty());

  // The stored state is read on both sides.
  out = Signals("alice", "phone", courier::testing::PullSignal("p", 1, 10));
  auto alice_log = On(out, "msg/alice/devices/phone/inbox");
  ASSERT_EQ(alice_log.size(), 1u);
  EXPECT_TRUE(AsMessage(alice_log[0]).signal_ack_state().read());
  out = Signals("bob", "tablet", courier::testing::PullSignal("p", 0, 10));
  auto bob_log = On(out, "msg/bob/devices/tablet/inbox");
  ASSERT_EQ(bob_log.size(), 1u);
  EXPECT_TRUE(AsMessage(bob_log[0]).signal_ack_state().read());

  // A receipt on an offset bob's log does not have.
  out = Signals("bob", "laptop", courier::testing::Receipt("m9", 9, true));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "msg/bob/devices/laptop/events");
  EXPECT_EQ(AsSignal(out[0]).type(), 3);
  EXPECT_EQ(AsSignal(out[0]).error().rfind("unknown_offset:", 0), 0u);
}

TEST_P(FlowTest, PullBacklogInOrderWithLimitAndCursor) {
  for (int i = 1; i <= 5; ++i) Send("alice", "phone", Msg("m" + std::to_string(i), "bob"));

  auto out = Signals("bob", "laptop", courier::testing::PullSignal("p1", 0, 2));
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].topic, "msg/bob/devices/laptop/inbox");
  EXPECT_EQ(out[1].topic, "msg/bob/devices/laptop/inbox");
  EXPECT_EQ(AsMessage(out[0]).signal_offset(), 1);
  EXPECT_EQ(AsMessage(out[0]).id(), "m1");
  EXPECT_EQ(AsMessage(out[1]).signal_offset(), 2);
  EXPECT_EQ(AsMessage(out[0]).signal_request(), 1);
  EXPECT_EQ(out[2].topic, "msg/bob/devices/laptop/events");
  Signal resp = AsSignal(out[2]);
  EXPECT_EQ(resp.id(), "p1");
  EXPECT_EQ(resp.signal_offset(), 5);
  EXPECT_EQ(resp.limit(), 2u);

  // Receipt with PULL: records the receipt, then sends the next entry.
  Signal next = courier::testing::Receipt("m2", 2, false);
  next.set_signal_request(1);
  out = Signals("bob", "laptop", next);
  auto inbox = On(out, "msg/bob/devices/laptop/inbox");
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_EQ(AsMessage(inbox[0]).signal_offset(), 3);
  EXPECT_EQ(On(out, "msg/alice/events").size(), 1u);  // the receipt reached the sender
  auto events = On(out, "msg/bob/devices/laptop/events");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(AsSignal(events[0]).signal_offset(), 5);
  EXPECT_EQ(AsSignal(events[0]).limit(), 1u);

  // -1: from the device's cursor (2, moved by the receipt), default limit.
  out = Signals("bob", "laptop", courier::testing::PullSignal("p2", -1, 0));
  inbox = On(out, "msg/bob/devices/laptop/inbox");
  ASSERT_EQ(inbox.size(), 3u);
  EXPECT_EQ(AsMessage(inbox[0]).signal_offset(), 3);
  EXPECT_EQ(AsMessage(inbox[1]).signal_offset(), 4);
  EXPECT_EQ(AsMessage(inbox[2]).signal_offset(), 5);

  Signals("bob", "laptop", courier::testing::Receipt("m5", 5, true));
  out = Signals("bob", "laptop", courier::testing::PullSignal("p3", -1, 10));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(AsSignal(out[0]).signal_offset(), 5);
  EXPECT_EQ(AsSignal(out[0]).limit(), 0u);

  // Another device has its own cursor.
  out = Signals("bob", "phone", courier::testing::PullSignal("p4", -1, 10));
  EXPECT_EQ(On(out, "msg/bob/devices/phone/inbox").size(), 5u);
}

TEST_P(FlowTest, ActivityIsForwardedAndNotStored) {
  auto out = Signals("alice", "phone", courier::testing::Activity("bob", 4));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "msg/bob/events");
  EXPECT_EQ(AsSignal(out[0]).from().user(), "alice");
  out = Signals("bob", "laptop", courier::testing::PullSignal("p", 0, 10));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(AsSignal(out[0]).signal_offset(), 0);  // bob's log is still empty
}

TEST_P(FlowTest, DuplicateAfterReopenReturnsTheOriginalAck) {
  auto out = Send("alice", "phone", Msg("m1", "bob", "original"));
  Signal first = AckIn(out, "alice");
  ASSERT_EQ(first.signal_offset(), 1);
  Send("alice", "phone", Msg("m2", "bob"));

  OpenStore();

  Message retry = Msg("m1", "bob", "original");
  retry.set_timestamp(987654);
  out = Send("alice", "tablet", retry);
  ASSERT_EQ(out.size(), 1u) << ::testing::PrintToString(TopicsOf(out));
  Signal again = AckIn(out, "alice");
  EXPECT_EQ(again.id(), "m1");
  EXPECT_EQ(again.signal_offset(), first.signal_offset());
  EXPECT_EQ(again.user_offset(), first.user_offset());

  out = Send("alice", "tablet", Msg("m1", "bob", "different"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "msg/alice/devices/tablet/events");
  EXPECT_EQ(AsSignal(out[0]).type(), 3);
  EXPECT_EQ(AsSignal(out[0]).error().rfind("id_conflict:", 0), 0u);

  // Offsets continue after the reopen, with no gap.
  out = Send("alice", "phone", Msg("m3", "bob"));
  Signal ack = AckIn(out, "alice");
  EXPECT_EQ(ack.signal_offset(), 3);
  EXPECT_EQ(ack.user_offset(), 3);
  auto to_bob = On(out, "msg/bob/inbox");
  ASSERT_EQ(to_bob.size(), 1u);
  EXPECT_EQ(AsMessage(to_bob[0]).signal_offset(), 3);

  OpenStore();
  out = Send("bob", "laptop", Msg("b1", "alice"));
  ack = AckIn(out, "bob");
  EXPECT_EQ(ack.signal_offset(), 4);
  EXPECT_EQ(ack.user_offset(), 4);
  EXPECT_EQ(AsMessage(On(out, "msg/alice/inbox").at(0)).signal_offset(), 4);
}

TEST_P(FlowTest, RetryInTheSameBatchIsOneEntry) {
  // Two devices send the same id before a flush: one entry, two acks.
  for (const char* device : {"phone", "tablet"}) {
    std::string payload = Msg("m1", "bob").SerializeAsString();
    core::Decision d = engine_.OnPublish(core::Inbound{
        .topic = "msg/alice/send", .payload = payload, .user = "alice", .client_id = device, .now_ms = ++now_});
    ASSERT_EQ(d.requests.size(), 1u);
    store_->Submit(std::move(d.requests[0]));
  }
  std::vector<Publish> out;
  for (const auto& c : store_->Flush()) {
    auto more = engine_.OnCompletion(c);
    out.insert(out.end(), more.begin(), more.end());
  }
  EXPECT_EQ(On(out, "msg/bob/inbox").size(), 1u);
  auto acks = On(out, "msg/alice/events");
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_EQ(AsSignal(acks[0]).signal_offset(), 1);
  EXPECT_EQ(AsSignal(acks[1]).signal_offset(), 1);
  out = Signals("bob", "laptop", courier::testing::PullSignal("p", 0, 10));
  EXPECT_EQ(On(out, "msg/bob/devices/laptop/inbox").size(), 1u);
}

// plugin_opt_max_id_bytes accepts up to 4096; LMDB keys hold 511 bytes.
// A long id that passed validation must not fail the other users' messages
// that share its batch, nor get an error that makes its client retry forever.
TEST_P(FlowTest, LongIdAllowedByOptionsDoesNotFailTheBatch) {
  // An id whose dedup key cannot fit LMDB's 511-byte keys is refused at load.
  auto refused = plugin::ParseOptions({{"db_path", dir_.Sub("unused")}, {"max_id_bytes", "1000"}});
  ASSERT_TRUE(std::holds_alternative<std::string>(refused));
  EXPECT_NE(std::get<std::string>(refused).find("max_id_bytes"), std::string::npos);

  // The longest id the options allow is stored, beside another user's message.
  auto parsed = plugin::ParseOptions({{"db_path", dir_.Sub("unused")}, {"max_id_bytes", "382"}});
  ASSERT_TRUE(std::holds_alternative<plugin::PluginOptions>(parsed));
  core::Engine engine(std::get<plugin::PluginOptions>(parsed).core);

  const std::string long_id(382, 'i');
  const std::string long_user(128, 'a');
  std::vector<Publish> out;
  for (const auto& [user, id] : {std::pair<std::string, std::string>{"bob", "b1"}, {long_user, long_id}}) {
    std::string payload = Msg(id, "carol").SerializeAsString();
    core::Decision d = engine.OnPublish(core::Inbound{
        .topic = "msg/" + user + "/send", .payload = payload, .user = user, .client_id = "phone", .now_ms = 1});
    ASSERT_EQ(d.requests.size(), 1u) << "validation refused the id";
    store_->Submit(std::move(d.requests[0]));
  }
  for (const auto& c : store_->Flush()) {
    auto more = engine.OnCompletion(c);
    out.insert(out.end(), more.begin(), more.end());
  }
  auto bob_events = On(out, "msg/bob/events");
  EXPECT_EQ(bob_events.size(), 1u) << "bob's message was not acked: " << ::testing::PrintToString(TopicsOf(out));
  for (const auto& p : On(out, "msg/bob/devices/phone/events")) {
    ADD_FAILURE() << "bob got an error: " << AsSignal(p).error();
  }
  EXPECT_EQ(On(out, "msg/" + long_user + "/events").size(), 1u) << "the long id was not acked";
  for (const auto& p : On(out, "msg/" + long_user + "/devices/phone/events")) {
    ADD_FAILURE() << "the long id got an error: " << AsSignal(p).error();
  }
}

}  // namespace
}  // namespace courier
