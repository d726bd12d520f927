// Append: offsets per user and per conversation, batches, bodies, invalid and
// oversized requests, the undelivered quota and counters inside one batch. On every engine (store_engine.h).
#include <string>
#include <variant>
#include <vector>

#include "store_fixture.h"

namespace courier::storage::testing {
namespace {

class AppendTest : public StoreTest {};
COURIER_STORE_ENGINES(AppendTest);

TEST_P(AppendTest, OffsetsStartAtOnePerUserAndGrowByOne) {
  AppendResult r = Appended(Append("alice", "bob", "m1", "one"));
  EXPECT_FALSE(r.duplicate);
  EXPECT_EQ(r.device_copy.id(), "m1");
  EXPECT_EQ(r.device_copy.signal_offset(), 1);
  EXPECT_EQ(r.device_copy.user_offset(), 1);
  EXPECT_EQ(r.device_copy.signal_type(), 2);
  EXPECT_EQ(r.device_copy.payload(), "one");
  EXPECT_EQ(r.device_copy.from().user(), "alice");
  ASSERT_EQ(r.receivers.size(), 1u);
  ASSERT_EQ(r.receiver_copies.size(), 1u);
  EXPECT_EQ(r.receivers[0], "bob");
  EXPECT_EQ(r.receiver_copies[0].signal_offset(), 1);
  EXPECT_EQ(r.receiver_copies[0].user_offset(), 1);
  EXPECT_EQ(r.receiver_copies[0].signal_type(), 3);
  EXPECT_EQ(r.receiver_copies[0].payload(), "one");

  r = Appended(Append("alice", "bob", "m2"));
  EXPECT_EQ(r.device_copy.signal_offset(), 2);
  EXPECT_EQ(r.receiver_copies[0].signal_offset(), 2);
  EXPECT_EQ(r.device_copy.user_offset(), 2);

  // The reply: bob's log is the sender log now; same conversation.
  r = Appended(Append("bob", "alice", "m1"));  // ids are per sender
  EXPECT_FALSE(r.duplicate);
  EXPECT_EQ(r.device_copy.signal_offset(), 3);
  EXPECT_EQ(r.receiver_copies[0].signal_offset(), 3);
  EXPECT_EQ(r.device_copy.user_offset(), 3);
  EXPECT_EQ(r.receiver_copies[0].user_offset(), 3);

  // A new conversation starts its own user_offset; carol's log starts at 1.
  r = Appended(Append("alice", "carol", "m3"));
  EXPECT_EQ(r.device_copy.signal_offset(), 4);
  EXPECT_EQ(r.receiver_copies[0].signal_offset(), 1);
  EXPECT_EQ(r.device_copy.user_offset(), 1);
  EXPECT_EQ(r.receiver_copies[0].user_offset(), 1);

  // A note to yourself: one DEVICE copy, no receiver.
  r = Appended(Append("alice", "alice", "m4"));
  EXPECT_EQ(r.device_copy.signal_offset(), 5);
  EXPECT_EQ(r.device_copy.user_offset(), 1);
  EXPECT_TRUE(r.receivers.empty());
  EXPECT_TRUE(r.receiver_copies.empty());

  r = Appended(Append("alice", "bob", "m5"));
  EXPECT_EQ(r.device_copy.signal_offset(), 6);
  EXPECT_EQ(r.receiver_copies[0].signal_offset(), 4);
  EXPECT_EQ(r.device_copy.user_offset(), 4);

  EXPECT_EQ(Offsets(Log("alice")), (V{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(Offsets(Log("bob")), (V{1, 2, 3, 4}));
  EXPECT_EQ(Offsets(Log("carol")), (V{1}));
  auto alice = Log("alice");
  EXPECT_EQ(alice[0].signal_type(), 2);
  EXPECT_EQ(alice[2].signal_type(), 3);  // bob's reply is a RECEIVER copy in alice's log
  EXPECT_EQ(alice[2].from().user(), "bob");
}

TEST_P(AppendTest, ManyAppendsInOneBatchHaveNoGaps) {
  for (int i = 1; i <= 50; ++i) store_->Submit(Append("alice", "bob", "m" + std::to_string(i)));
  store_->Submit(Append("bob", "alice", "r1"));
  EXPECT_EQ(store_->pending(), 51u);
  auto done = store_->Flush();
  ASSERT_EQ(done.size(), 51u);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(done[i].status.ok());
    // Completions come back in submission order.
    EXPECT_EQ(std::get<AppendRequest>(done[i].request).message.id(), "m" + std::to_string(i + 1));
    const auto& r = std::get<AppendResult>(done[i].result);
    EXPECT_EQ(r.device_copy.signal_offset(), i + 1);
    EXPECT_EQ(r.receiver_copies[0].signal_offset(), i + 1);
    EXPECT_EQ(r.device_copy.user_offset(), i + 1);
  }
  const auto& reply = std::get<AppendResult>(done[50].result);
  EXPECT_EQ(reply.device_copy.signal_offset(), 51);
  EXPECT_EQ(reply.receiver_copies[0].signal_offset(), 51);
  EXPECT_EQ(reply.device_copy.user_offset(), 51);
  EXPECT_EQ(Log("alice").size(), 51u);
  EXPECT_EQ(Log("bob").size(), 51u);
}

// Each message's body gets the next sequence number, counted once per batch
// and kept across batches and a reopen: a reused number would overwrite an
// older body (or fail the append), and every entry must keep its own payload.
TEST_P(AppendTest, BodiesKeepTheirOwnContentAcrossBatchesAndReopen) {
  int n = 0;
  auto batch = [&](int count) {
    for (int i = 0; i < count; ++i, ++n) {
      store_->Submit(Append("alice", "bob", "m" + std::to_string(n), "payload " + std::to_string(n)));
    }
    for (const auto& c : store_->Flush()) ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  };
  batch(3);
  batch(2);
  Close();
  Open();
  batch(2);
  for (const std::string user : {"alice", "bob"}) {
    auto log = Log(user);
    ASSERT_EQ(log.size(), 7u) << user;
    for (int i = 0; i < 7; ++i) {
      EXPECT_EQ(log[i].id(), "m" + std::to_string(i)) << user;
      EXPECT_EQ(log[i].payload(), "payload " + std::to_string(i)) << user;
    }
  }
}

TEST_P(AppendTest, NamesThatArePrefixesOfOthersHaveSeparateLogs) {
  Appended(Append("x", "bo", "1"));
  Appended(Append("x", "bob", "2"));
  Appended(Append("x", "bobby", "3"));
  Appended(Append("x", "bob", "4"));
  EXPECT_EQ(Offsets(Log("bo")), (V{1}));
  EXPECT_EQ(Offsets(Log("bob")), (V{1, 2}));
  EXPECT_EQ(Offsets(Log("bobby")), (V{1}));
  EXPECT_EQ(Log("bob")[1].id(), "4");
  EXPECT_EQ(Pulled(Pull("bo", "d", 0, 10)).head, 1);
  EXPECT_EQ(Pulled(Pull("bob", "d", 0, 10)).head, 2);
}

TEST_P(AppendTest, InvalidAppendFailsAloneInItsBatch) {
  AppendRequest no_id = Append("alice", "bob", "");
  AppendRequest self_receiver = Append("alice", "bob", "x");
  self_receiver.receivers = {"alice"};
  AppendRequest no_conv = Append("alice", "bob", "y");
  no_conv.conversation.clear();
  store_->Submit(Append("alice", "bob", "m1"));
  store_->Submit(no_id);
  store_->Submit(self_receiver);
  store_->Submit(no_conv);
  store_->Submit(Append("alice", "bob", "m2"));
  auto done = store_->Flush();
  ASSERT_EQ(done.size(), 5u);
  EXPECT_TRUE(done[0].status.ok());
  EXPECT_EQ(done[1].status.code(), Status::Code::kInvalid);
  EXPECT_EQ(done[2].status.code(), Status::Code::kInvalid);
  EXPECT_EQ(done[3].status.code(), Status::Code::kInvalid);
  ASSERT_TRUE(done[4].status.ok());
  EXPECT_EQ(std::get<AppendResult>(done[4].result).device_copy.signal_offset(), 2);
  EXPECT_EQ(Offsets(Log("alice")), (V{1, 2}));
}

// LMDB keys hold at most 511 bytes, but the plugin accepts ids and names of
// up to 4096 bytes (plugin_opt_max_id_bytes, plugin_opt_max_name_bytes). A
// request whose keys do not fit must fail alone, and not as a transient store
// failure that the client would retry forever; the rest of its batch succeeds.
TEST_P(AppendTest, OversizedKeysFailOnlyTheirOwnRequest) {
  const std::string long_id(600, 'i');
  const std::string long_user(600, 'u');
  AppendRequest long_receiver = Append("alice", "bob", "m2");
  long_receiver.receivers = {long_user};
  long_receiver.conversation = Conv("alice", long_user);
  store_->Submit(Append("bob", "carol", "b1"));
  store_->Submit(Append("alice", "bob", long_id));
  store_->Submit(long_receiver);
  store_->Submit(Receipt("bob", std::string(600, 'd'), 1, true));
  store_->Submit(Append("carol", "bob", "c1"));
  auto done = store_->Flush();
  ASSERT_EQ(done.size(), 5u);
  EXPECT_TRUE(done[0].status.ok()) << "an innocent request of the batch failed: " << done[0].status.ToString();
  EXPECT_TRUE(done[4].status.ok()) << "an innocent request of the batch failed: " << done[4].status.ToString();
  for (int i : {1, 2, 3}) {
    EXPECT_FALSE(done[i].status.transient()) << "request " << i << ": " << done[i].status.ToString();
  }
}

TEST_P(AppendTest, FlushOfNothingReturnsNothing) {
  EXPECT_EQ(store_->pending(), 0u);
  EXPECT_TRUE(store_->Flush().empty());
}

TEST_P(AppendTest, QuotaRefusesWhenTheReceiverHasTooManyUndelivered) {
  auto limited = [](AppendRequest r) {
    r.max_undelivered = 2;
    return r;
  };
  Appended(limited(Append("alice", "bob", "m1")));
  Appended(limited(Append("carol", "bob", "m2")));
  Completion over = Run(limited(Append("alice", "bob", "m3")));
  EXPECT_EQ(over.status.code(), Status::Code::kLimit) << over.status.ToString();
  EXPECT_TRUE(over.status.transient());
  EXPECT_EQ(Offsets(Log("bob")), (V{1, 2})) << "a refused append wrote something";
  EXPECT_EQ(Offsets(Log("alice")), (V{1})) << "a refused append wrote a DEVICE copy";

  // A repeat of an accepted id is answered even over the quota.
  EXPECT_TRUE(Appended(limited(Append("alice", "bob", "m1"))).duplicate);

  // bob's device receives one: there is room again. Read after received
  // does not count twice.
  Receipted(Receipt("bob", "phone", 1, false));
  Receipted(Receipt("bob", "phone", 1, true));
  Receipted(Receipt("bob", "tablet", 1, false));
  Appended(limited(Append("alice", "bob", "m3")));
  EXPECT_EQ(Run(limited(Append("alice", "bob", "m4"))).status.code(), Status::Code::kLimit);
  // Without a limit nothing is refused.
  Appended(Append("alice", "bob", "m4"));
}

// Heads, conversation counters and undelivered counts change many times
// inside one commit: every request later in the same batch must see the
// earlier ones (a quota check, a receipt, an admin query, a pull), and what
// the batch counted must be what a reopened store reads.
TEST_P(AppendTest, CountersMoveWithinOneBatchAndAreStoredAfterIt) {
  auto limited = [](AppendRequest r) {
    r.max_undelivered = 2;
    return r;
  };
  auto get_user = [](const std::string& user) {
    AdminRequest a;
    a.ops.push_back(AdminOp{.kind = AdminOp::Kind::kGetUser, .user = user});
    return a;
  };
  store_->Submit(limited(Append("alice", "bob", "m1")));
  store_->Submit(limited(Append("carol", "bob", "m2")));
  store_->Submit(limited(Append("alice", "bob", "m3")));  // bob has 2 waiting
  store_->Submit(Receipt("bob", "phone", 1, false));      // now 1
  store_->Submit(limited(Append("alice", "bob", "m4")));  // room again
  store_->Submit(get_user("bob"));
  store_->Submit(Pull("alice", "phone", 0, 10));
  auto done = store_->Flush();
  ASSERT_EQ(done.size(), 7u);
  EXPECT_TRUE(done[0].status.ok());
  EXPECT_TRUE(done[1].status.ok());
  EXPECT_EQ(done[2].status.code(), Status::Code::kLimit) << done[2].status.ToString();
  EXPECT_TRUE(done[3].status.ok());
  ASSERT_TRUE(done[4].status.ok()) << done[4].status.ToString();
  const auto& m4 = std::get<AppendResult>(done[4].result);
  EXPECT_EQ(m4.receiver_copies[0].signal_offset(), 3);
  EXPECT_EQ(m4.device_copy.signal_offset(), 2) << "alice's head counted m1 only before m4";
  EXPECT_EQ(m4.device_copy.user_offset(), 2) << "the alice-bob conversation had m1 before m4";
  const auto& bob = std::get<AdminResult>(done[5].result).results.at(0);
  EXPECT_EQ(bob.head, 3);
  EXPECT_EQ(bob.undelivered, 2);
  EXPECT_EQ(std::get<PullResult>(done[6].result).head, 2);

  // What the batch counted is what a reopened store reads.
  Close();
  Open();
  Completion c = Run(get_user("bob"));
  ASSERT_TRUE(c.status.ok());
  EXPECT_EQ(std::get<AdminResult>(c.result).results.at(0).head, 3);
  EXPECT_EQ(std::get<AdminResult>(c.result).results.at(0).undelivered, 2);
  AppendResult next = Appended(Append("carol", "bob", "m5"));
  EXPECT_EQ(next.receiver_copies[0].signal_offset(), 4);
  EXPECT_EQ(next.device_copy.signal_offset(), 2);
  EXPECT_EQ(next.device_copy.user_offset(), 2) << "the carol-bob conversation had m2 before m5";
}

}  // namespace
}  // namespace courier::storage::testing
