// LmdbStore on a real LMDB environment in a temporary directory.
#include "lmdb_store.h"

#include <gtest/gtest.h>
#include <lmdb.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <sys/stat.h>
#include <variant>

#include "keys.h"
#include "lmdb_env.h"
#include "test_util.h"

namespace courier::storage {
namespace {

using courier::testing::Ident;
using courier::testing::TempDir;
using courier::v1::Message;

// Conversation key of a pair of users, as any caller may choose it.
std::string Conv(std::string a, std::string b) {
  if (b < a) std::swap(a, b);
  return "c:" + a + "|" + b;
}

AppendRequest Append(const std::string& sender, const std::string& to, const std::string& id,
                     const std::string& payload = "hello", const std::string& device = "phone") {
  AppendRequest r;
  r.sender = sender;
  if (to != sender) r.receivers.push_back(to);
  r.conversation = Conv(sender, to);
  r.message.set_id(id);
  *r.message.mutable_from() = Ident(sender, device);
  r.message.mutable_to()->set_user(to);
  r.message.set_payload(payload);
  r.message.set_server_timestamp(1000);
  r.message.mutable_signal_ack_state()->set_send(true);
  r.message.set_signal_offset_state(true);
  return r;
}

ReceiptRequest Receipt(const std::string& user, const std::string& device, int32_t offset, bool read) {
  return ReceiptRequest{.user = user, .device = device, .offset = offset, .received = true, .read = read};
}

PullRequest Pull(const std::string& user, const std::string& device, int32_t after, uint32_t limit) {
  return PullRequest{.user = user, .device = device, .after = after, .limit = limit};
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  LmdbOptions Options() const {
    LmdbOptions o;
    o.path = dir_.Sub("db");
    o.map_size_mb = 16;
    o.max_map_size_mb = 64;
    o.sync = SyncMode::kOs;  // speed; durability across processes is the integration tests' job
    return o;
  }
  void Open(const LmdbOptions& o) {
    store_.reset();
    Status s = LmdbStore::Open(o, &store_);
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_NE(store_, nullptr);
  }
  void Open() { Open(Options()); }
  void Close() { store_.reset(); }

  // Submits one request, flushes, returns its completion.
  Completion Run(Request r) {
    store_->Submit(std::move(r));
    EXPECT_EQ(store_->pending(), 1u);
    auto done = store_->Flush();
    EXPECT_EQ(store_->pending(), 0u);
    EXPECT_EQ(done.size(), 1u);
    if (done.empty()) return Completion{PullRequest{}, Status::Invalid("no completion"), std::monostate{}};
    return std::move(done[0]);
  }
  AppendResult Appended(AppendRequest r) {
    Completion c = Run(std::move(r));
    EXPECT_TRUE(c.status.ok()) << c.status.ToString();
    auto* res = std::get_if<AppendResult>(&c.result);
    if (!res) {
      ADD_FAILURE() << "no AppendResult";
      return {};
    }
    return *res;
  }
  ReceiptResult Receipted(ReceiptRequest r) {
    Completion c = Run(std::move(r));
    EXPECT_TRUE(c.status.ok()) << c.status.ToString();
    auto* res = std::get_if<ReceiptResult>(&c.result);
    if (!res) {
      ADD_FAILURE() << "no ReceiptResult";
      return {};
    }
    return *res;
  }
  PullResult Pulled(PullRequest r) {
    Completion c = Run(std::move(r));
    EXPECT_TRUE(c.status.ok()) << c.status.ToString();
    auto* res = std::get_if<PullResult>(&c.result);
    if (!res) {
      ADD_FAILURE() << "no PullResult";
      return {};
    }
    return *res;
  }
  // All entries of `user`'s log.
  std::vector<Message> Log(const std::string& user) { return Pulled(Pull(user, "any", 0, 1'000'000)).entries; }

  static std::vector<int32_t> Offsets(const std::vector<Message>& entries) {
    std::vector<int32_t> v;
    for (const auto& m : entries) v.push_back(m.signal_offset());
    return v;
  }

  TempDir dir_;
  std::unique_ptr<LmdbStore> store_;
};

using V = std::vector<int32_t>;

// ---------------------------------------------------------------- offsets

TEST_F(StoreTest, OffsetsStartAtOnePerUserAndGrowByOne) {
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

TEST_F(StoreTest, ManyAppendsInOneBatchHaveNoGaps) {
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
TEST_F(StoreTest, BodiesKeepTheirOwnContentAcrossBatchesAndReopen) {
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

TEST_F(StoreTest, NamesThatArePrefixesOfOthersHaveSeparateLogs) {
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

TEST_F(StoreTest, InvalidAppendFailsAloneInItsBatch) {
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
TEST_F(StoreTest, OversizedKeysFailOnlyTheirOwnRequest) {
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

TEST_F(StoreTest, FlushOfNothingReturnsNothing) {
  EXPECT_EQ(store_->pending(), 0u);
  EXPECT_TRUE(store_->Flush().empty());
}

// ---------------------------------------------------------------- dedup

TEST_F(StoreTest, DuplicateReturnsTheOriginalAndWritesNothing) {
  Appended(Append("alice", "bob", "m1", "original"));
  Appended(Append("alice", "bob", "m2"));
  AppendResult dup = Appended(Append("alice", "carol", "m1", "changed", "tablet"));
  EXPECT_TRUE(dup.duplicate);
  EXPECT_EQ(dup.device_copy.id(), "m1");
  EXPECT_EQ(dup.device_copy.payload(), "original");
  EXPECT_EQ(dup.device_copy.to().user(), "bob");
  EXPECT_EQ(dup.device_copy.from().device(), "phone");
  EXPECT_EQ(dup.device_copy.signal_offset(), 1);
  EXPECT_EQ(dup.device_copy.user_offset(), 1);
  EXPECT_EQ(dup.device_copy.signal_type(), 2);
  EXPECT_TRUE(dup.receivers.empty());
  EXPECT_TRUE(dup.receiver_copies.empty());

  EXPECT_EQ(Offsets(Log("alice")), (V{1, 2}));
  EXPECT_EQ(Offsets(Log("bob")), (V{1, 2}));
  EXPECT_TRUE(Log("carol").empty());
  EXPECT_EQ(Pulled(Pull("carol", "d", 0, 10)).head, 0);

  // Nothing was consumed: the next message takes the next offsets.
  AppendResult next = Appended(Append("alice", "bob", "m3"));
  EXPECT_EQ(next.device_copy.signal_offset(), 3);
  EXPECT_EQ(next.receiver_copies[0].signal_offset(), 3);
  EXPECT_EQ(next.device_copy.user_offset(), 3);
  AppendResult to_carol = Appended(Append("alice", "carol", "m4"));
  EXPECT_EQ(to_carol.device_copy.user_offset(), 1);
  EXPECT_EQ(to_carol.receiver_copies[0].signal_offset(), 1);
}

TEST_F(StoreTest, DuplicateOfANoteToYourself) {
  Appended(Append("alice", "alice", "n1"));
  AppendResult dup = Appended(Append("alice", "alice", "n1"));
  EXPECT_TRUE(dup.duplicate);
  EXPECT_EQ(dup.device_copy.signal_offset(), 1);
  EXPECT_EQ(Offsets(Log("alice")), (V{1}));
}

TEST_F(StoreTest, DedupInsideOneBatch) {
  store_->Submit(Append("alice", "bob", "m1", "first"));
  store_->Submit(Append("alice", "bob", "m1", "second", "tablet"));
  store_->Submit(Append("alice", "bob", "m2"));
  store_->Submit(Append("bob", "alice", "m1"));  // another sender: not a duplicate
  auto done = store_->Flush();
  ASSERT_EQ(done.size(), 4u);
  for (const auto& c : done) ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  const auto& first = std::get<AppendResult>(done[0].result);
  const auto& second = std::get<AppendResult>(done[1].result);
  const auto& third = std::get<AppendResult>(done[2].result);
  const auto& other = std::get<AppendResult>(done[3].result);
  EXPECT_FALSE(first.duplicate);
  EXPECT_TRUE(second.duplicate);
  EXPECT_EQ(second.device_copy.signal_offset(), first.device_copy.signal_offset());
  EXPECT_EQ(second.device_copy.user_offset(), first.device_copy.user_offset());
  EXPECT_EQ(second.device_copy.payload(), "first");
  EXPECT_TRUE(second.receiver_copies.empty());
  EXPECT_FALSE(third.duplicate);
  EXPECT_EQ(third.device_copy.signal_offset(), 2);
  EXPECT_EQ(third.receiver_copies[0].signal_offset(), 2);
  EXPECT_FALSE(other.duplicate);
  EXPECT_EQ(other.device_copy.signal_offset(), 3);
  EXPECT_EQ(Offsets(Log("alice")), (V{1, 2, 3}));
  EXPECT_EQ(Offsets(Log("bob")), (V{1, 2, 3}));
}

// ---------------------------------------------------------------- receipts

TEST_F(StoreTest, ReceiptsSetFlagsOnBothCopiesAndNeverClearThem) {
  Appended(Append("alice", "carol", "m0"));  // alice's offsets differ from bob's
  Appended(Append("alice", "bob", "m1"));    // alice 2, bob 1

  ReceiptResult r = Receipted(Receipt("bob", "laptop", 1, false));
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.entry.id(), "m1");
  EXPECT_EQ(r.entry.signal_offset(), 1);
  EXPECT_EQ(r.entry.signal_type(), 3);
  EXPECT_TRUE(r.entry.signal_ack_state().received());
  EXPECT_FALSE(r.entry.signal_ack_state().read());
  EXPECT_EQ(r.peer_user, "alice");
  ASSERT_TRUE(r.peer.has_value());
  EXPECT_EQ(r.peer->id(), "m1");
  EXPECT_EQ(r.peer->signal_offset(), 2);
  EXPECT_EQ(r.peer->signal_type(), 2);
  EXPECT_TRUE(r.peer->signal_ack_state().received());
  EXPECT_FALSE(r.peer->signal_ack_state().read());

  // Stored, on both sides.
  EXPECT_TRUE(Log("bob")[0].signal_ack_state().received());
  EXPECT_TRUE(Log("alice")[1].signal_ack_state().received());
  EXPECT_FALSE(Log("alice")[0].signal_ack_state().received());  // m0 untouched

  // The same receipt again changes nothing.
  r = Receipted(Receipt("bob", "laptop", 1, false));
  EXPECT_FALSE(r.changed);

  r = Receipted(Receipt("bob", "phone", 1, true));
  EXPECT_TRUE(r.changed);
  EXPECT_TRUE(r.entry.signal_ack_state().received());
  EXPECT_TRUE(r.entry.signal_ack_state().read());
  ASSERT_TRUE(r.peer.has_value());
  EXPECT_TRUE(r.peer->signal_ack_state().read());
  EXPECT_EQ(r.peer->signal_offset(), 2);

  // Never backwards: a later "received" leaves "read" set.
  r = Receipted(Receipt("bob", "laptop", 1, false));
  EXPECT_FALSE(r.changed);
  EXPECT_TRUE(r.entry.signal_ack_state().read());
  r = Receipted(Receipt("bob", "laptop", 1, true));
  EXPECT_FALSE(r.changed);

  EXPECT_TRUE(Log("bob")[0].signal_ack_state().read());
  EXPECT_TRUE(Log("bob")[0].signal_ack_state().received());
  EXPECT_TRUE(Log("alice")[1].signal_ack_state().read());
  EXPECT_TRUE(Log("alice")[1].signal_ack_state().received());
  EXPECT_TRUE(Log("alice")[1].signal_ack_state().send());
}

TEST_F(StoreTest, ReadDirectlyAlsoSetsRead) {
  Appended(Append("alice", "bob", "m1"));
  ReceiptResult r = Receipted(Receipt("bob", "laptop", 1, true));
  EXPECT_TRUE(r.changed);
  EXPECT_TRUE(r.entry.signal_ack_state().read());
  EXPECT_TRUE(r.entry.signal_ack_state().received());
  ASSERT_TRUE(r.peer.has_value());
  EXPECT_TRUE(r.peer->signal_ack_state().read());
}

TEST_F(StoreTest, ReceiptMovesTheDeviceCursorOnlyForward) {
  for (int i = 1; i <= 5; ++i) Appended(Append("alice", "bob", "m" + std::to_string(i)));
  // No cursor yet: -1 reads from the start.
  EXPECT_EQ(Offsets(Pulled(Pull("bob", "laptop", -1, 10)).entries), (V{1, 2, 3, 4, 5}));

  Receipted(Receipt("bob", "laptop", 3, false));
  EXPECT_EQ(Offsets(Pulled(Pull("bob", "laptop", -1, 10)).entries), (V{4, 5}));
  Receipted(Receipt("bob", "laptop", 1, true));  // older: the cursor stays
  EXPECT_EQ(Offsets(Pulled(Pull("bob", "laptop", -1, 10)).entries), (V{4, 5}));
  Receipted(Receipt("bob", "laptop", 5, false));
  EXPECT_TRUE(Pulled(Pull("bob", "laptop", -1, 10)).entries.empty());

  // Cursors are per device.
  EXPECT_EQ(Offsets(Pulled(Pull("bob", "phone", -1, 10)).entries), (V{1, 2, 3, 4, 5}));
  // A pull does not move the cursor.
  EXPECT_EQ(Offsets(Pulled(Pull("bob", "phone", -1, 2)).entries), (V{1, 2}));
  EXPECT_EQ(Offsets(Pulled(Pull("bob", "phone", -1, 2)).entries), (V{1, 2}));
}

TEST_F(StoreTest, ReceiptOnOwnDeviceCopyMovesTheCursorOnly) {
  Appended(Append("alice", "bob", "m1"));
  Appended(Append("alice", "bob", "m2"));
  ReceiptResult r = Receipted(Receipt("alice", "tablet", 1, true));
  EXPECT_FALSE(r.changed);
  EXPECT_EQ(r.entry.signal_offset(), 1);
  EXPECT_EQ(r.entry.signal_type(), 2);
  EXPECT_FALSE(r.entry.signal_ack_state().received());
  EXPECT_FALSE(r.entry.signal_ack_state().read());
  EXPECT_TRUE(r.peer_user.empty());
  EXPECT_FALSE(r.peer.has_value());
  // Neither copy changed state.
  EXPECT_FALSE(Log("alice")[0].signal_ack_state().read());
  EXPECT_FALSE(Log("alice")[0].signal_ack_state().received());
  EXPECT_FALSE(Log("bob")[0].signal_ack_state().read());
  EXPECT_FALSE(Log("bob")[0].signal_ack_state().received());
  // The cursor moved.
  EXPECT_EQ(Offsets(Pulled(Pull("alice", "tablet", -1, 10)).entries), (V{2}));
}

TEST_F(StoreTest, ReceiptOnAMissingOffsetIsNotFound) {
  Appended(Append("alice", "bob", "m1"));
  for (int32_t offset : {2, 99, 0, -1}) {
    Completion c = Run(Receipt("bob", "laptop", offset, true));
    EXPECT_EQ(c.status.code(), Status::Code::kNotFound) << offset << ": " << c.status.ToString();
    EXPECT_TRUE(std::holds_alternative<std::monostate>(c.result));
  }
  Completion c = Run(Receipt("carol", "laptop", 1, false));  // no log at all
  EXPECT_EQ(c.status.code(), Status::Code::kNotFound);
  // A failed receipt does not move the cursor.
  EXPECT_EQ(Offsets(Pulled(Pull("bob", "laptop", -1, 10)).entries), (V{1}));
  EXPECT_FALSE(Log("bob")[0].signal_ack_state().received());
}

// ---------------------------------------------------------------- pull

TEST_F(StoreTest, PullRanges) {
  for (int i = 1; i <= 5; ++i) Appended(Append("alice", "bob", "m" + std::to_string(i)));
  PullResult p = Pulled(Pull("bob", "laptop", 0, 10));
  EXPECT_EQ(p.head, 5);
  EXPECT_EQ(Offsets(p.entries), (V{1, 2, 3, 4, 5}));
  EXPECT_EQ(p.entries[0].id(), "m1");
  EXPECT_EQ(p.entries[4].id(), "m5");

  p = Pulled(Pull("bob", "laptop", 2, 2));
  EXPECT_EQ(p.head, 5);
  EXPECT_EQ(Offsets(p.entries), (V{3, 4}));

  p = Pulled(Pull("bob", "laptop", 4, 10));
  EXPECT_EQ(Offsets(p.entries), (V{5}));

  p = Pulled(Pull("bob", "laptop", 5, 10));
  EXPECT_EQ(p.head, 5);
  EXPECT_TRUE(p.entries.empty());

  p = Pulled(Pull("bob", "laptop", 50, 10));
  EXPECT_EQ(p.head, 5);
  EXPECT_TRUE(p.entries.empty());

  p = Pulled(Pull("bob", "laptop", 0, 0));  // the head only
  EXPECT_EQ(p.head, 5);
  EXPECT_TRUE(p.entries.empty());

  p = Pulled(Pull("bob", "laptop", 0, 1));
  EXPECT_EQ(Offsets(p.entries), (V{1}));

  // -1: after this device's cursor.
  Receipted(Receipt("bob", "laptop", 2, false));
  p = Pulled(Pull("bob", "laptop", -1, 2));
  EXPECT_EQ(p.head, 5);
  EXPECT_EQ(Offsets(p.entries), (V{3, 4}));

  // alice's log has the DEVICE copies; an unknown user has an empty log.
  EXPECT_EQ(Pulled(Pull("alice", "phone", 0, 10)).head, 5);
  p = Pulled(Pull("nobody", "d", 0, 10));
  EXPECT_EQ(p.head, 0);
  EXPECT_TRUE(p.entries.empty());
  p = Pulled(Pull("nobody", "d", -1, 10));
  EXPECT_EQ(p.head, 0);
  EXPECT_TRUE(p.entries.empty());
}

// ---------------------------------------------------------------- reopen

TEST_F(StoreTest, CountersDedupAndCursorsSurviveReopen) {
  Appended(Append("alice", "bob", "m1", "original"));
  Appended(Append("alice", "bob", "m2"));
  Appended(Append("alice", "carol", "m3"));
  Receipted(Receipt("bob", "laptop", 1, true));
  Close();
  Open();

  AppendResult dup = Appended(Append("alice", "bob", "m1", "changed"));
  EXPECT_TRUE(dup.duplicate);
  EXPECT_EQ(dup.device_copy.signal_offset(), 1);
  EXPECT_EQ(dup.device_copy.payload(), "original");
  EXPECT_TRUE(dup.device_copy.signal_ack_state().read());  // the receipt survived too

  AppendResult next = Appended(Append("alice", "bob", "m4"));
  EXPECT_FALSE(next.duplicate);
  EXPECT_EQ(next.device_copy.signal_offset(), 4);
  EXPECT_EQ(next.receiver_copies[0].signal_offset(), 3);
  EXPECT_EQ(next.device_copy.user_offset(), 3);
  EXPECT_EQ(Offsets(Pulled(Pull("bob", "laptop", -1, 10)).entries), (V{2, 3}));

  Close();
  Open();
  EXPECT_EQ(Offsets(Log("alice")), (V{1, 2, 3, 4}));
  EXPECT_EQ(Offsets(Log("bob")), (V{1, 2, 3}));
  EXPECT_EQ(Offsets(Log("carol")), (V{1}));
  EXPECT_EQ(Offsets(Pulled(Pull("bob", "laptop", -1, 10)).entries), (V{2, 3}));
  AppendResult to_carol = Appended(Append("carol", "alice", "c1"));
  EXPECT_EQ(to_carol.device_copy.user_offset(), 2);
  EXPECT_EQ(to_carol.device_copy.signal_offset(), 2);
  EXPECT_EQ(to_carol.receiver_copies[0].signal_offset(), 5);
}

// ---------------------------------------------------------------- opening

// Writes meta[schema_version] = value (or deletes it when value is null) with the raw LMDB C API:
// it forges a store of another build, which no storage API may write.
void SetSchemaVersion(const std::string& path, const char* value) {
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), MDB_SUCCESS);
  ASSERT_EQ(mdb_env_set_maxdbs(env, 8), MDB_SUCCESS);
  ASSERT_EQ(mdb_env_open(env, path.c_str(), 0, 0600), MDB_SUCCESS);
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), MDB_SUCCESS);
  MDB_dbi meta;
  ASSERT_EQ(mdb_dbi_open(txn, "meta", 0, &meta), MDB_SUCCESS);
  std::string key = "schema_version";
  MDB_val k{key.size(), key.data()};
  if (value) {
    std::string v = value;
    MDB_val val{v.size(), v.data()};
    ASSERT_EQ(mdb_put(txn, meta, &k, &val, 0), MDB_SUCCESS);
  } else {
    ASSERT_EQ(mdb_del(txn, meta, &k, nullptr), MDB_SUCCESS);
  }
  ASSERT_EQ(mdb_txn_commit(txn), MDB_SUCCESS);
  mdb_env_close(env);
}

TEST_F(StoreTest, RefusesAnotherSchemaVersion) {
  Appended(Append("alice", "bob", "m1"));
  Close();
  SetSchemaVersion(Options().path, "999");
  std::unique_ptr<LmdbStore> other;
  Status s = LmdbStore::Open(Options(), &other);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(other, nullptr);
  EXPECT_NE(s.message().find("999"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("version"), std::string::npos) << s.message();
}

TEST_F(StoreTest, RefusesEntriesWithoutASchemaVersion) {
  Appended(Append("alice", "bob", "m1"));
  Close();
  SetSchemaVersion(Options().path, nullptr);
  std::unique_ptr<LmdbStore> other;
  Status s = LmdbStore::Open(Options(), &other);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(other, nullptr);
  EXPECT_NE(s.message().find("version"), std::string::npos) << s.message();
}

TEST(StoreOpen, PathThatIsAFileIsRefused) {
  TempDir dir;
  const std::string file = dir.Sub("file");
  std::ofstream(file) << "not a store";
  LmdbOptions o;
  o.path = file;
  std::unique_ptr<LmdbStore> store;
  Status s = LmdbStore::Open(o, &store);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(store, nullptr);
  EXPECT_NE(s.message().find(file), std::string::npos) << s.message();
}

TEST(StoreOpen, EmptyPathIsRefused) {
  LmdbOptions o;
  std::unique_ptr<LmdbStore> store;
  EXPECT_FALSE(LmdbStore::Open(o, &store).ok());
  EXPECT_EQ(store, nullptr);
}

TEST(StoreOpen, MissingDirectoryIsCreated) {
  TempDir dir;
  LmdbOptions o;
  o.path = dir.Sub("new-store");
  o.map_size_mb = 4;
  o.sync = SyncMode::kOs;
  std::unique_ptr<LmdbStore> store;
  Status s = LmdbStore::Open(o, &store);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_NE(store, nullptr);
  struct stat st {};
  ASSERT_EQ(stat(o.path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  store->Submit(Append("alice", "bob", "m1"));
  auto done = store->Flush();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].status.ok()) << done[0].status.ToString();
}

// ---------------------------------------------------------------- sync os

// With sync os the store is forced to disk beside the commits, once per
// interval and only after a commit; the other modes sync in the commit.
TEST_F(StoreTest, OsModeSyncsInTheBackgroundAfterCommits) {
  LmdbOptions o = Options();  // sync os
  o.os_sync_interval_ms = 5;
  Open(o);
  Appended(Append("alice", "bob", "m1"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (store_->os_syncs() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_GE(store_->os_syncs(), 1u);
  EXPECT_EQ(store_->os_sync_failures(), 0u);

  // The store reopens with the message after a clean close.
  Open(o);
  Completion c = Run(Pull("bob", "d", 0, 10));
  ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  EXPECT_EQ(std::get<PullResult>(c.result).head, 1);
}

TEST_F(StoreTest, FullModeHasNoBackgroundSync) {
  LmdbOptions o = Options();
  o.sync = SyncMode::kFull;
  Open(o);
  Appended(Append("alice", "bob", "m1"));
  EXPECT_EQ(store_->os_syncs(), 0u);
}

// ---------------------------------------------------------------- map size

// 3000 messages of 1 KiB from alice to bob, in batches of 100, from a 1 MiB map.
TEST(StoreMap, GrowsWhenFull) {
  TempDir dir;
  LmdbOptions o;
  o.path = dir.Sub("db");
  o.map_size_mb = 1;
  o.max_map_size_mb = 64;
  o.sync = SyncMode::kOs;
  std::unique_ptr<LmdbStore> store;
  ASSERT_TRUE(LmdbStore::Open(o, &store).ok());
  const std::string payload(1024, 'x');
  int ok = 0;
  for (int b = 0; b < 30; ++b) {
    for (int i = 0; i < 100; ++i) store->Submit(Append("alice", "bob", "m" + std::to_string(b * 100 + i), payload));
    for (const auto& c : store->Flush()) {
      EXPECT_TRUE(c.status.ok()) << c.status.ToString();
      ok += c.status.ok();
    }
  }
  EXPECT_EQ(ok, 3000);
  EXPECT_GT(store->stats().map_grows, 0u);
  EXPECT_GT(store->stats().map_size_bytes, 1u << 20);
  EXPECT_LE(store->stats().map_size_bytes, 64u << 20);
  EXPECT_EQ(store->stats().failed_batches, 0u);

  // The grown store reopens with the small initial size and keeps working.
  store.reset();
  ASSERT_TRUE(LmdbStore::Open(o, &store).ok());
  store->Submit(PullRequest{.user = "bob", .device = "d", .after = 2990, .limit = 100});
  store->Submit(Append("alice", "bob", "last", payload));
  auto done = store->Flush();
  ASSERT_EQ(done.size(), 2u);
  ASSERT_TRUE(done[0].status.ok()) << done[0].status.ToString();
  const auto& pulled = std::get<PullResult>(done[0].result);
  EXPECT_EQ(pulled.head, 3000);
  ASSERT_EQ(pulled.entries.size(), 10u);
  EXPECT_EQ(pulled.entries.back().id(), "m2999");
  EXPECT_EQ(pulled.entries.back().payload(), payload);
  ASSERT_TRUE(done[1].status.ok()) << done[1].status.ToString();
  EXPECT_EQ(std::get<AppendResult>(done[1].result).device_copy.signal_offset(), 3001);
}

TEST(StoreMap, FullStoreFailsTheWholeBatchAndKeepsEarlierData) {
  TempDir dir;
  LmdbOptions o;
  o.path = dir.Sub("db");
  o.map_size_mb = 1;
  o.max_map_size_mb = 1;
  o.sync = SyncMode::kOs;
  std::unique_ptr<LmdbStore> store;
  ASSERT_TRUE(LmdbStore::Open(o, &store).ok());
  const std::string payload(1024, 'x');
  int32_t stored = 0;  // messages committed before the failure
  bool failed = false;
  for (int b = 0; b < 100 && !failed; ++b) {
    for (int i = 0; i < 50; ++i) store->Submit(Append("alice", "bob", "m" + std::to_string(b * 50 + i), payload));
    auto done = store->Flush();
    ASSERT_EQ(done.size(), 50u);
    EXPECT_EQ(store->pending(), 0u);
    if (done[0].status.ok()) {
      for (const auto& c : done) ASSERT_TRUE(c.status.ok()) << c.status.ToString();
      stored += 50;
      continue;
    }
    failed = true;
    for (const auto& c : done) {
      EXPECT_EQ(c.status.code(), Status::Code::kFull) << c.status.ToString();
      EXPECT_TRUE(c.status.transient());
      EXPECT_TRUE(std::holds_alternative<std::monostate>(c.result));
    }
  }
  ASSERT_TRUE(failed) << "1 MiB never filled up";
  ASSERT_GT(stored, 0) << "even the first batch failed";
  EXPECT_EQ(store->stats().map_grows, 0u);
  EXPECT_EQ(store->stats().failed_batches, 1u);

  // Nothing of the failed batch is visible; what came before is intact.
  store->Submit(PullRequest{.user = "alice", .device = "d", .after = stored - 2, .limit = 10});
  store->Submit(PullRequest{.user = "bob", .device = "d", .after = 0, .limit = 3});
  store->Submit(PullRequest{.user = "bob", .device = "d", .after = stored, .limit = 3});
  auto done = store->Flush();
  ASSERT_EQ(done.size(), 3u);
  for (const auto& c : done) ASSERT_TRUE(c.status.ok()) << c.status.ToString();
  const auto& alice = std::get<PullResult>(done[0].result);
  EXPECT_EQ(alice.head, stored);
  ASSERT_EQ(alice.entries.size(), 2u);
  EXPECT_EQ(alice.entries[1].signal_offset(), stored);
  EXPECT_EQ(alice.entries[1].id(), "m" + std::to_string(stored - 1));
  const auto& bob_start = std::get<PullResult>(done[1].result);
  EXPECT_EQ(bob_start.head, stored);
  ASSERT_EQ(bob_start.entries.size(), 3u);
  EXPECT_EQ(bob_start.entries[0].id(), "m0");
  EXPECT_EQ(bob_start.entries[0].payload(), payload);
  EXPECT_TRUE(std::get<PullResult>(done[2].result).entries.empty());

  // The same holds after reopening.
  store.reset();
  ASSERT_TRUE(LmdbStore::Open(o, &store).ok());
  store->Submit(PullRequest{.user = "bob", .device = "d", .after = stored - 1, .limit = 10});
  done = store->Flush();
  ASSERT_EQ(done.size(), 1u);
  ASSERT_TRUE(done[0].status.ok());
  EXPECT_EQ(std::get<PullResult>(done[0].result).head, stored);
  EXPECT_EQ(std::get<PullResult>(done[0].result).entries.size(), 1u);
}

}  // namespace
}  // namespace courier::storage

namespace courier::storage {
namespace {

// ---------------------------------------------------------------- quota

TEST_F(StoreTest, QuotaRefusesWhenTheReceiverHasTooManyUndelivered) {
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
TEST_F(StoreTest, CountersMoveWithinOneBatchAndAreStoredAfterIt) {
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
}  // namespace courier::storage

// ---------------------------------------------------------------- the copies table's LMDB operations

namespace courier::storage {
namespace {

// A MDB_DUPSORT | MDB_DUPFIXED table of copy records, as `copies` uses it:
// appends with MDB_APPENDDUP, seeks by offset, rewrites in place with
// MDB_CURRENT, deletes one value. Sizes cover a single value, values in a
// sub-page and values in a sub-database.
TEST(LmdbDupFixed, AppendSeekRewriteInPlaceAndDelete) {
  TempDir dir;
  Env env;
  ASSERT_EQ(mdb_env_set_maxdbs(env.get(), 4), MDB_SUCCESS);
  ASSERT_EQ(mdb_env_set_mapsize(env.get(), 64u << 20), MDB_SUCCESS);
  ASSERT_EQ(mdb_env_open(env.get(), dir.path().c_str(), MDB_NOSYNC, 0600), MDB_SUCCESS);
  MDB_dbi dbi;
  const std::vector<int> sizes = {1, 7, 3000};
  {
    Txn txn(env.get(), false);
    ASSERT_EQ(mdb_dbi_open(txn.get(), "copies", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED, &dbi), MDB_SUCCESS);
    // Users interleaved, as appends arrive.
    for (int i = 1; i <= 3000; ++i) {
      for (int n : sizes) {
        if (i > n) continue;
        keys::CopyRecord c{.offset = i, .seq = uint64_t(n) * 100000 + i, .device = (i % 2) == 0};
        txn.Put(dbi, "u" + std::to_string(n), keys::EncodeCopy(c), MDB_APPENDDUP);
      }
    }
    // An offset that does not grow is refused by MDB_APPENDDUP.
    try {
      txn.Put(dbi, "u7", keys::EncodeCopy(keys::CopyRecord{.offset = 3, .seq = 1}), MDB_APPENDDUP);
      ADD_FAILURE() << "out-of-order append accepted";
    } catch (const LmdbError& e) { EXPECT_EQ(e.rc(), MDB_KEYEXIST); }
    txn.Commit();
  }
  {
    Txn txn(env.get(), false);
    for (int n : sizes) {
      const std::string user = "u" + std::to_string(n);
      // Rewrite every third record in place: set received and read.
      for (int i = 1; i <= n; i += 3) {
        Cursor cur(txn, dbi);
        ASSERT_TRUE(cur.SeekDup(user, keys::CopyProbe(i))) << user << " " << i;
        auto c = keys::DecodeCopy(cur.value());
        ASSERT_TRUE(c);
        ASSERT_EQ(c->offset, i);
        c->received = c->read = true;
        cur.PutCurrent(keys::EncodeCopy(*c));
        EXPECT_EQ(keys::DecodeCopy(cur.value())->offset, i) << "the cursor stays on the rewritten value";
        EXPECT_TRUE(keys::DecodeCopy(cur.value())->read);
      }
      Cursor cur(txn, dbi);
      EXPECT_FALSE(cur.SeekDup(user, keys::CopyProbe(n + 1))) << "nothing after the last offset";
    }
    txn.Commit();
  }
  MDB_stat st{};
  {
    Txn txn(env.get(), false);
    ASSERT_EQ(mdb_stat(txn.get(), dbi, &st), MDB_SUCCESS);
    EXPECT_EQ(st.ms_entries, 1u + 7u + 3000u) << "rewrites replaced, they did not add";
    // Every user's values in offset order, with the rewritten flags.
    for (int n : sizes) {
      const std::string user = "u" + std::to_string(n);
      int expect = 1;
      Cursor cur(txn, dbi);
      for (bool ok = cur.SeekDup(user, keys::CopyProbe(1)); ok; ok = cur.NextDup()) {
        auto c = keys::DecodeCopy(cur.value());
        ASSERT_TRUE(c);
        ASSERT_EQ(c->offset, expect) << user;
        EXPECT_EQ(c->seq, uint64_t(n) * 100000 + expect);
        EXPECT_EQ(c->device, expect % 2 == 0);
        EXPECT_EQ(c->received, (expect - 1) % 3 == 0) << user << " " << expect;
        EXPECT_EQ(c->read, (expect - 1) % 3 == 0);
        ++expect;
      }
      EXPECT_EQ(expect, n + 1) << user;
    }
    // Delete one value of a user, then all of the single one's.
    auto c5 = keys::EncodeCopy(keys::CopyRecord{.offset = 5, .seq = 700005});
    EXPECT_TRUE(txn.DelDup(dbi, "u7", c5));
    EXPECT_FALSE(txn.DelDup(dbi, "u7", c5));
    {
      Cursor cur(txn, dbi);
      ASSERT_TRUE(cur.SeekDup("u7", keys::CopyProbe(5)));
      EXPECT_EQ(keys::DecodeCopy(cur.value())->offset, 6) << "a seek lands on the next offset";
    }
    auto c1 = keys::EncodeCopy(keys::CopyRecord{.offset = 1, .seq = 100001, .received = true, .read = true});
    EXPECT_TRUE(txn.DelDup(dbi, "u1", c1));
    EXPECT_FALSE(txn.Get(dbi, "u1").has_value());
    txn.Commit();
  }
  // MDB_APPENDDUP fills the pages: 3000 records of 13 bytes take 10 leaf
  // pages of 4 KiB at most (a middle split would leave them about half full).
  {
    Txn txn(env.get(), true);
    MDB_stat sub{};
    ASSERT_EQ(mdb_stat(txn.get(), dbi, &sub), MDB_SUCCESS);
    EXPECT_LE(sub.ms_leaf_pages, 12u) << "leaf pages " << sub.ms_leaf_pages;
  }
}

}  // namespace
}  // namespace courier::storage
