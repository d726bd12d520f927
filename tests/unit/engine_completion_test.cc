// Engine::OnCompletion: what a finished store request publishes
// (engine_fixture.h).
#include <string>
#include <vector>

#include "engine_fixture.h"

namespace courier::core {
namespace {

using namespace engine_testing;

// ---------------------------------------------------------------- completions

TEST_F(EngineTest, NewAppendDeliversCopiesAndAcks) {
  AppendRequest req = AppendOf(Msg("m1", "bob", "hi"));
  auto out = engine_.OnCompletion(Completion{req, Status::Ok(), Stored(req, 3, 7, 2)});
  EXPECT_EQ(out.size(), 3u) << ::testing::PrintToString(TopicsOf(out));

  const ::courier::core::Publish* receiver = Find(out, "msg/bob/inbox");
  ASSERT_NE(receiver, nullptr);
  Message r = AsMessage(*receiver);
  EXPECT_EQ(r.id(), "m1");
  EXPECT_EQ(r.signal_type(), 3);
  EXPECT_EQ(r.signal_offset(), 7);
  EXPECT_EQ(r.user_offset(), 2);
  EXPECT_EQ(r.from().user(), "alice");
  EXPECT_EQ(r.from().device(), "phone");
  EXPECT_EQ(r.payload(), "hi");
  EXPECT_EQ(r.server_timestamp(), kNow);

  const ::courier::core::Publish* device = Find(out, "msg/alice/inbox");
  ASSERT_NE(device, nullptr);
  Message dc = AsMessage(*device);
  EXPECT_EQ(dc.id(), "m1");
  EXPECT_EQ(dc.signal_type(), 2);
  EXPECT_EQ(dc.signal_offset(), 3);
  EXPECT_EQ(dc.user_offset(), 2);

  const ::courier::core::Publish* ack = Find(out, "msg/alice/events");
  ASSERT_NE(ack, nullptr);
  ExpectSenderAck(AsSignal(*ack), "m1", 3, 2);
}

TEST_F(EngineTest, NewAppendToYourself) {
  AppendRequest req = AppendOf(Msg("m1", "alice"));
  auto out = engine_.OnCompletion(Completion{req, Status::Ok(), Stored(req, 4, 0, 1)});
  EXPECT_EQ(out.size(), 2u) << ::testing::PrintToString(TopicsOf(out));
  const ::courier::core::Publish* device = Find(out, "msg/alice/inbox");
  ASSERT_NE(device, nullptr);
  EXPECT_EQ(AsMessage(*device).signal_offset(), 4);
  const ::courier::core::Publish* ack = Find(out, "msg/alice/events");
  ASSERT_NE(ack, nullptr);
  ExpectSenderAck(AsSignal(*ack), "m1", 4, 1);
}

TEST_F(EngineTest, DuplicateWithSameContentOnlyAcksWithOriginalOffsets) {
  AppendRequest first = AppendOf(Msg("m1", "bob", "hi"));
  AppendResult original = Stored(first, 3, 7, 2);

  // A retry, later, from another device of the same user.
  Message retry = Msg("m1", "bob", "hi");
  retry.set_timestamp(99999);
  AppendRequest again = AppendOf(retry, "alice", "tablet");
  AppendResult dup;
  dup.duplicate = true;
  dup.device_copy = original.device_copy;
  auto out = engine_.OnCompletion(Completion{again, Status::Ok(), dup});
  ASSERT_EQ(out.size(), 1u) << ::testing::PrintToString(TopicsOf(out));
  EXPECT_EQ(out[0].topic, "msg/alice/events");
  ExpectSenderAck(AsSignal(out[0]), "m1", 3, 2);
}

TEST_F(EngineTest, DuplicateWithDifferentContentIsIdConflict) {
  AppendRequest first = AppendOf(Msg("m1", "bob", "hi"));
  AppendResult dup;
  dup.duplicate = true;
  dup.device_copy = Stored(first, 3, 7, 2).device_copy;

  for (const Message& other : {Msg("m1", "bob", "changed"), Msg("m1", "carol", "hi")}) {
    AppendRequest again = AppendOf(other, "alice", "tablet");
    auto out = engine_.OnCompletion(Completion{again, Status::Ok(), dup});
    Decision as_decision{.consumed = true, .publish = out, .requests = {}};
    ExpectRejected(as_decision, "id_conflict", "m1", "msg/alice/devices/tablet/events");
  }
}

TEST_F(EngineTest, StoreFailuresOfAnAppend) {
  AppendRequest req = AppendOf(Msg("m1", "bob"));
  struct Case {
    Status status;
    const char* code;
    bool transient;
  } cases[] = {
      {Status::Full("map is full"), "store_full", true},
      {Status::IoError("disk"), "store_unavailable", true},
      {Status::Corruption("bad"), "store_unavailable", true},
      {Status::Invalid("bug"), "internal", false},
  };
  for (const auto& c : cases) {
    auto out = engine_.OnCompletion(Completion{req, c.status, std::monostate{}});
    ASSERT_EQ(out.size(), 1u) << c.code;
    EXPECT_EQ(out[0].topic, "msg/alice/devices/phone/events") << c.code;
    if (c.transient) {
      ExpectTransient(AsSignal(out[0]), c.code, "m1");
    } else {
      ExpectRejected(Decision{.consumed = true, .publish = out, .requests = {}}, c.code, "m1");
    }
  }
}

TEST_F(EngineTest, StoreFailuresOfReceiptsAndPulls) {
  ReceiptRequest receipt{.user = "bob",
                         .device = "laptop",
                         .offset = 5,
                         .received = true,
                         .read = false,
                         .reply = MakeReply(SignalReply{"m9"})};
  PullRequest pull{.user = "bob", .device = "laptop", .after = 0, .limit = 10, .reply = MakeReply(SignalReply{"p9"})};

  auto out = engine_.OnCompletion(Completion{receipt, Status::NotFound("no entry at offset 5"), std::monostate{}});
  ExpectRejected(Decision{.consumed = true, .publish = out, .requests = {}}, "unknown_offset", "m9",
                 "msg/bob/devices/laptop/events");

  out = engine_.OnCompletion(Completion{receipt, Status::Full("full"), std::monostate{}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "msg/bob/devices/laptop/events");
  ExpectTransient(AsSignal(out[0]), "store_full", "m9");

  out = engine_.OnCompletion(Completion{pull, Status::IoError("disk"), std::monostate{}});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "msg/bob/devices/laptop/events");
  ExpectTransient(AsSignal(out[0]), "store_unavailable", "p9");
}

TEST_F(EngineTest, ChangedReceiptNotifiesSenderAndReadersDevices) {
  ReceiptRequest req{.user = "bob",
                     .device = "laptop",
                     .offset = 7,
                     .received = true,
                     .read = true,
                     .reply = MakeReply(SignalReply{"m1"})};
  auto out = engine_.OnCompletion(Completion{req, Status::Ok(), ReceiptStored(7, 3, true)});
  EXPECT_EQ(out.size(), 2u) << ::testing::PrintToString(TopicsOf(out));

  const ::courier::core::Publish* to_sender = Find(out, "msg/alice/events");
  ASSERT_NE(to_sender, nullptr);
  Signal s = AsSignal(*to_sender);
  EXPECT_EQ(s.id(), "m1");
  EXPECT_EQ(s.signal_type(), 3);  // RECEIVER
  EXPECT_EQ(s.type(), 2);
  EXPECT_EQ(s.signal_offset(), 3);  // the sender-side offset
  EXPECT_EQ(s.user_offset(), 2);
  EXPECT_TRUE(s.signal_offset_state());
  EXPECT_TRUE(s.signal_ack_state().received());
  EXPECT_TRUE(s.signal_ack_state().read());
  EXPECT_EQ(s.from().user(), "bob");
  EXPECT_EQ(s.from().device(), "laptop");
  EXPECT_FALSE(s.has_error());

  const ::courier::core::Publish* to_reader = Find(out, "msg/bob/events");
  ASSERT_NE(to_reader, nullptr);
  Signal d = AsSignal(*to_reader);
  EXPECT_EQ(d.id(), "m1");
  EXPECT_EQ(d.signal_type(), 2);    // DEVICE
  EXPECT_EQ(d.signal_offset(), 7);  // the reader's own offset
  EXPECT_EQ(d.user_offset(), 2);
  EXPECT_TRUE(d.signal_ack_state().received());
  EXPECT_TRUE(d.signal_ack_state().read());
  EXPECT_EQ(d.from().user(), "bob");
  EXPECT_EQ(d.from().device(), "laptop");
}

TEST_F(EngineTest, ReceivedOnlyReceiptCarriesReceivedState) {
  ReceiptRequest req{.user = "bob",
                     .device = "laptop",
                     .offset = 7,
                     .received = true,
                     .read = false,
                     .reply = MakeReply(SignalReply{"m1"})};
  auto out = engine_.OnCompletion(Completion{req, Status::Ok(), ReceiptStored(7, 3, false)});
  const ::courier::core::Publish* to_sender = Find(out, "msg/alice/events");
  ASSERT_NE(to_sender, nullptr);
  Signal s = AsSignal(*to_sender);
  EXPECT_TRUE(s.signal_ack_state().received());
  EXPECT_FALSE(s.signal_ack_state().read());
}

TEST_F(EngineTest, UnchangedReceiptSaysNothing) {
  ReceiptRequest req{.user = "bob",
                     .device = "laptop",
                     .offset = 7,
                     .received = true,
                     .read = true,
                     .reply = MakeReply(SignalReply{"m1"})};
  ReceiptResult res = ReceiptStored(7, 3, true);
  res.changed = false;
  EXPECT_TRUE(engine_.OnCompletion(Completion{req, Status::Ok(), res}).empty());
}

TEST_F(EngineTest, PullDeliversEntriesThenTheResponse) {
  PullRequest req{.user = "bob", .device = "laptop", .after = 2, .limit = 10, .reply = MakeReply(SignalReply{"p1"})};
  PullResult res;
  res.head = 9;
  for (int32_t off : {3, 4, 5}) {
    Message m = Msg("m" + std::to_string(off), "bob");
    m.set_signal_offset(off);
    m.set_signal_type(3);
    res.entries.push_back(m);
  }
  auto out = engine_.OnCompletion(Completion{req, Status::Ok(), res});
  ASSERT_EQ(out.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(out[i].topic, "msg/bob/devices/laptop/inbox");
    Message m = AsMessage(out[i]);
    EXPECT_EQ(m.signal_offset(), 3 + i);  // oldest first
    EXPECT_EQ(m.id(), "m" + std::to_string(3 + i));
    EXPECT_EQ(m.signal_request(), 1);
  }
  EXPECT_EQ(out[3].topic, "msg/bob/devices/laptop/events");
  Signal r = AsSignal(out[3]);
  EXPECT_EQ(r.id(), "p1");
  EXPECT_EQ(r.type(), 2);
  EXPECT_EQ(r.signal_request(), 1);
  EXPECT_EQ(r.signal_offset(), 9);  // head
  EXPECT_EQ(r.limit(), 3u);         // count sent
  EXPECT_FALSE(r.has_error());
}

TEST_F(EngineTest, EmptyPullOnlyResponds) {
  PullRequest req{.user = "bob", .device = "laptop", .after = 9, .limit = 10, .reply = MakeReply(SignalReply{"p1"})};
  PullResult res;
  res.head = 9;
  auto out = engine_.OnCompletion(Completion{req, Status::Ok(), res});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "msg/bob/devices/laptop/events");
  Signal r = AsSignal(out[0]);
  EXPECT_EQ(r.signal_offset(), 9);
  EXPECT_EQ(r.limit(), 0u);
}

}  // namespace
}  // namespace courier::core
