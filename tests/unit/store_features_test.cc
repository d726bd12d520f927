// The LmdbStore operations behind groups, expiry, retention and the admin
// API. The basic append/receipt/pull contract is in lmdb_store_test.cc.
#include <gtest/gtest.h>

#include <map>

#include "lmdb_reader.h"
#include "lmdb_store.h"
#include "test_util.h"

namespace courier::storage {
namespace {

using courier::testing::Ident;
using courier::testing::TempDir;
using courier::v1::Message;
using Kind = AdminOp::Kind;

class StoreFeaturesTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    store_.reset();
    LmdbOptions o;
    o.path = dir_.Sub("db");
    o.map_size_mb = 16;
    o.sync = SyncMode::kOs;
    Status s = LmdbStore::Open(o, &store_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  Completion Run(Request r) {
    store_->Submit(std::move(r));
    auto done = store_->Flush();
    EXPECT_EQ(done.size(), 1u);
    if (done.empty()) return Completion{PullRequest{}, Status::Invalid("none"), std::monostate{}};
    return std::move(done[0]);
  }
  template <typename R>
  R Ok(Request r) {
    Completion c = Run(std::move(r));
    EXPECT_TRUE(c.status.ok()) << c.status.ToString();
    auto* res = std::get_if<R>(&c.result);
    return res ? *res : R{};
  }
  AdminOpResult Admin(AdminOp op) {
    AdminRequest req;
    req.ops.push_back(std::move(op));
    auto res = Ok<AdminResult>(req);
    return res.results.empty() ? AdminOpResult{} : res.results[0];
  }
  void CreateGroup(const std::string& g, std::vector<std::string> members) {
    AdminOpResult r = Admin(AdminOp{
        .kind = Kind::kCreateGroup, .group = g, .user = {}, .members = members, .max_members = 10, .now_ms = 1});
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  }
  static AppendRequest ToGroup(const std::string& sender, const std::string& group, const std::string& id,
                               int64_t ts = 1000) {
    AppendRequest r;
    r.sender = sender;
    r.group = group;
    r.conversation = "g:" + group;
    r.message.set_id(id);
    *r.message.mutable_from() = Ident(sender, "phone");
    r.message.mutable_to()->set_group(group);
    r.message.set_payload("hi " + id);
    r.message.set_server_timestamp(ts);
    return r;
  }
  static AppendRequest ToUser(const std::string& sender, const std::string& to, const std::string& id,
                              int64_t ts = 1000, int64_t expires_ms = 0) {
    AppendRequest r;
    r.sender = sender;
    r.receivers = {to};
    r.conversation = "u:" + std::min(sender, to) + "|" + std::max(sender, to);
    r.message.set_id(id);
    *r.message.mutable_from() = Ident(sender, "phone");
    r.message.mutable_to()->set_user(to);
    r.message.set_payload("hi " + id);
    r.message.set_server_timestamp(ts);
    r.expires_ms = expires_ms;
    return r;
  }
  static ReceiptRequest Receipt(const std::string& user, const std::string& device, int32_t offset, bool read) {
    return ReceiptRequest{.user = user, .device = device, .offset = offset, .received = true, .read = read};
  }
  std::vector<int32_t> Offsets(const std::string& user, int64_t now_ms = 0) {
    auto res = Ok<PullResult>(PullRequest{.user = user, .device = "any", .after = 0, .limit = 1000, .now_ms = now_ms});
    std::vector<int32_t> v;
    for (const auto& m : res.entries) v.push_back(m.signal_offset());
    return v;
  }

  TempDir dir_;
  std::unique_ptr<LmdbStore> store_;
};

using V = std::vector<int32_t>;

TEST_F(StoreFeaturesTest, GroupMessageGoesToEveryOtherMember) {
  CreateGroup("family", {"alice", "bob", "carol"});
  Ok<AppendResult>(ToUser("dave", "carol", "d1"));  // carol's log already has one entry
  AppendResult r = Ok<AppendResult>(ToGroup("alice", "family", "m1"));
  ASSERT_EQ(r.receivers, (std::vector<std::string>{"bob", "carol"}));
  EXPECT_EQ(r.receiver_copies[0].signal_offset(), 1);
  EXPECT_EQ(r.receiver_copies[1].signal_offset(), 2);
  EXPECT_EQ(r.device_copy.signal_offset(), 1);
  for (const auto& c : r.receiver_copies) EXPECT_EQ(c.user_offset(), 1);
  AppendResult r2 = Ok<AppendResult>(ToGroup("bob", "family", "m2"));
  EXPECT_EQ(r2.device_copy.user_offset(), 2) << "one user_offset sequence per group";
  EXPECT_EQ(r2.receivers, (std::vector<std::string>{"alice", "carol"}));
}

TEST_F(StoreFeaturesTest, GroupRefusals) {
  CreateGroup("family", {"alice", "bob"});
  EXPECT_EQ(Run(ToGroup("mallory", "family", "x")).status.code(), Status::Code::kForbidden);
  EXPECT_EQ(Run(ToGroup("alice", "nope", "x")).status.code(), Status::Code::kNotFound);
  EXPECT_TRUE(Offsets("bob").empty());
  EXPECT_TRUE(Offsets("alice").empty());
}

TEST_F(StoreFeaturesTest, MembershipChangesApplyToLaterMessages) {
  CreateGroup("family", {"alice", "bob", "carol"});
  Ok<AppendResult>(ToGroup("alice", "family", "m1"));
  ASSERT_TRUE(Admin(AdminOp{.kind = Kind::kRemoveMember, .group = "family", .user = "carol"}).status.ok());
  ASSERT_TRUE(
      Admin(AdminOp{.kind = Kind::kAddMember, .group = "family", .user = "dave", .max_members = 10}).status.ok());
  AppendResult r = Ok<AppendResult>(ToGroup("alice", "family", "m2"));
  EXPECT_EQ(r.receivers, (std::vector<std::string>{"bob", "dave"}));
  EXPECT_EQ(Offsets("carol"), (V{1}));
  EXPECT_EQ(Offsets("dave"), (V{1}));
  EXPECT_EQ(Run(ToGroup("carol", "family", "c1")).status.code(), Status::Code::kForbidden);
}

TEST_F(StoreFeaturesTest, GroupReceiptsAreCountedOnTheSenderCopy) {
  CreateGroup("family", {"alice", "bob", "carol"});
  Ok<AppendResult>(ToGroup("alice", "family", "m1"));
  ReceiptResult r = Ok<ReceiptResult>(Receipt("bob", "phone", 1, false));
  EXPECT_TRUE(r.changed);
  EXPECT_EQ(r.peer_user, "alice");
  EXPECT_EQ(r.recipients, 2u);
  EXPECT_EQ(r.received_count, 1u);
  EXPECT_EQ(r.read_count, 0u);
  ASSERT_TRUE(r.peer);
  EXPECT_FALSE(r.peer->signal_ack_state().received()) << "one of two members is not everyone";
  r = Ok<ReceiptResult>(Receipt("bob", "tablet", 1, false));  // same member again: no count
  EXPECT_FALSE(r.changed);
  r = Ok<ReceiptResult>(Receipt("carol", "phone", 1, true));
  EXPECT_EQ(r.received_count, 2u);
  EXPECT_EQ(r.read_count, 1u);
  EXPECT_TRUE(r.peer->signal_ack_state().received());
  EXPECT_FALSE(r.peer->signal_ack_state().read());
  r = Ok<ReceiptResult>(Receipt("bob", "phone", 1, true));
  EXPECT_EQ(r.read_count, 2u);
  EXPECT_TRUE(r.peer->signal_ack_state().read());
}

TEST_F(StoreFeaturesTest, MembersRequest) {
  CreateGroup("family", {"alice", "bob"});
  auto m = Ok<MembersResult>(MembersRequest{.user = "alice", .group = "family"});
  EXPECT_EQ(m.members, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(Run(MembersRequest{.user = "eve", .group = "family"}).status.code(), Status::Code::kForbidden);
  EXPECT_EQ(Run(MembersRequest{.user = "alice", .group = "none"}).status.code(), Status::Code::kNotFound);
}

TEST_F(StoreFeaturesTest, ExpiryMarksUnreceivedCopiesAndPullsSkipThem) {
  Ok<AppendResult>(ToUser("alice", "bob", "m1", 1000, 5000));
  Ok<AppendResult>(ToUser("alice", "bob", "m2", 1000, 5000));
  Ok<AppendResult>(ToUser("alice", "bob", "m3", 1000, 0));  // never expires
  Ok<ReceiptResult>(Receipt("bob", "phone", 2, false));     // m2 received in time
  EXPECT_TRUE(Ok<ExpireResult>(ExpireRequest{.now_ms = 4999, .max_entries = 10}).expired.empty());
  EXPECT_EQ(Offsets("bob", 5000), (V{2, 3})) << "a pull skips an expired copy before the sweep ran";
  ExpireResult x = Ok<ExpireResult>(ExpireRequest{.now_ms = 5000, .max_entries = 10});
  ASSERT_EQ(x.expired.size(), 1u);
  EXPECT_EQ(x.expired[0].receiver, "bob");
  EXPECT_EQ(x.expired[0].entry.id(), "m1");
  EXPECT_EQ(x.expired[0].sender_offset, 1);
  EXPECT_TRUE(Ok<ExpireResult>(ExpireRequest{.now_ms = 9000, .max_entries = 10}).expired.empty())
      << "an expired copy is reported once";
  EXPECT_EQ(Offsets("bob", 0), (V{2, 3})) << "expired stays expired whatever the clock says";
  AdminOpResult u = Admin(AdminOp{.kind = Kind::kGetUser, .user = "bob"});
  EXPECT_EQ(u.undelivered, 1) << "m1 expired, m2 received: only m3 waits";
  EXPECT_EQ(u.head, 3);
}

TEST_F(StoreFeaturesTest, MaintenanceInAFlushCommitsAfterTheClientsRequests) {
  // One flush, maintenance mixed in: the clients' requests commit first, in
  // submission order, then expiry and retention in theirs.
  store_->Submit(ToUser("alice", "bob", "m1", 1000, 2000));
  store_->Submit(ExpireRequest{.now_ms = 3000, .max_entries = 10});
  store_->Submit(ToUser("alice", "bob", "m2", 1000, 2000));
  store_->Submit(TrimRequest{.older_than_ms = 1, .max_entries = 10});
  store_->Submit(ToUser("alice", "bob", "m3"));
  auto done = store_->Flush();
  ASSERT_EQ(done.size(), 5u);
  for (const auto& c : done) EXPECT_TRUE(c.status.ok()) << c.status.ToString();
  int32_t offset = 0;
  for (size_t i = 0; i < 3; ++i) {
    const auto* a = std::get_if<AppendRequest>(&done[i].request);
    ASSERT_NE(a, nullptr) << "completion " << i;
    EXPECT_EQ(a->message.id(), "m" + std::to_string(i + 1));
    const auto* r = std::get_if<AppendResult>(&done[i].result);
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(r->receiver_copies.at(0).signal_offset(), ++offset);
  }
  ASSERT_TRUE(std::holds_alternative<ExpireRequest>(done[3].request));
  EXPECT_EQ(std::get<ExpireResult>(done[3].result).expired.size(), 2u)
      << "the expiry sees both expiring appends, also the one submitted after it";
  EXPECT_TRUE(std::holds_alternative<TrimRequest>(done[4].request));
}

TEST_F(StoreFeaturesTest, ExpirySweepIsBounded) {
  for (int i = 0; i < 5; ++i) Ok<AppendResult>(ToUser("alice", "bob", "m" + std::to_string(i), 1000, 2000));
  EXPECT_EQ(Ok<ExpireResult>(ExpireRequest{.now_ms = 3000, .max_entries = 2}).expired.size(), 2u);
  EXPECT_EQ(Ok<ExpireResult>(ExpireRequest{.now_ms = 3000, .max_entries = 2}).expired.size(), 2u);
  EXPECT_EQ(Ok<ExpireResult>(ExpireRequest{.now_ms = 3000, .max_entries = 2}).expired.size(), 1u);
}

TEST_F(StoreFeaturesTest, TrimRemovesOnlyWhatEveryDeviceHasAndKeepsTheHead) {
  for (int i = 1; i <= 4; ++i) Ok<AppendResult>(ToUser("alice", "bob", "m" + std::to_string(i), 1000 * i));
  // bob's phone has 1..3, his tablet 1..2; alice's only device has all 4.
  Ok<ReceiptResult>(Receipt("bob", "phone", 3, false));
  Ok<ReceiptResult>(Receipt("bob", "tablet", 2, false));
  Ok<ReceiptResult>(Receipt("alice", "laptop", 4, false));
  // Older than 3500: entries 1..3; bob's floor is 2, alice's 4.
  TrimResult t = Ok<TrimResult>(TrimRequest{.older_than_ms = 3500, .max_entries = 100});
  EXPECT_EQ(t.removed, 2u + 3u);
  EXPECT_EQ(Offsets("bob"), (V{3, 4}));
  EXPECT_EQ(Offsets("alice"), (V{4}));
  // The dedup record went with alice's copy: m1 is a new message now.
  AppendResult again = Ok<AppendResult>(ToUser("alice", "bob", "m1", 9000));
  EXPECT_FALSE(again.duplicate);
  EXPECT_EQ(again.device_copy.signal_offset(), 5) << "heads never move back";
  EXPECT_EQ(again.receiver_copies[0].signal_offset(), 5);
  // m4's dedup record is still there.
  EXPECT_TRUE(Ok<AppendResult>(ToUser("alice", "bob", "m4", 9000)).duplicate);
}

TEST_F(StoreFeaturesTest, TrimKeepsEverythingOfAUserWithoutCursors) {
  Ok<AppendResult>(ToUser("alice", "bob", "m1", 1000));
  EXPECT_EQ(Ok<TrimResult>(TrimRequest{.older_than_ms = 99999, .max_entries = 100}).removed, 0u);
  EXPECT_EQ(Offsets("bob"), (V{1}));
}

TEST_F(StoreFeaturesTest, AdminGroupsAndUsers) {
  CreateGroup("b-team", {"bob"});
  CreateGroup("a-team", {"alice", "bob", "alice"});
  AdminOpResult dup = Admin(AdminOp{.kind = Kind::kCreateGroup, .group = "a-team"});
  EXPECT_FALSE(dup.status.ok());
  EXPECT_EQ(Admin(AdminOp{.kind = Kind::kListGroups}).names, (std::vector<std::string>{"a-team", "b-team"}));
  AdminOpResult g = Admin(AdminOp{.kind = Kind::kGetGroup, .group = "a-team", .conversation = "g:a-team"});
  EXPECT_EQ(g.names, (std::vector<std::string>{"alice", "bob"})) << "members are unique";
  Ok<AppendResult>(ToGroup("alice", "a-team", "m1"));
  EXPECT_EQ(Admin(AdminOp{.kind = Kind::kGetGroup, .group = "a-team", .conversation = "g:a-team"}).user_offset, 1);
  EXPECT_EQ(Admin(AdminOp{.kind = Kind::kRemoveMember, .group = "a-team", .user = "carol"}).status.code(),
            Status::Code::kNotFound);
  EXPECT_EQ(
      Admin(AdminOp{.kind = Kind::kAddMember, .group = "a-team", .user = "carol", .max_members = 2}).status.code(),
      Status::Code::kLimit);
  EXPECT_EQ(Admin(AdminOp{.kind = Kind::kCreateGroup, .group = "big", .members = {"a", "b", "c"}, .max_members = 2})
                .status.code(),
            Status::Code::kLimit);
  EXPECT_TRUE(Admin(AdminOp{.kind = Kind::kDeleteGroup, .group = "b-team"}).status.ok());
  EXPECT_EQ(Admin(AdminOp{.kind = Kind::kDeleteGroup, .group = "b-team"}).status.code(), Status::Code::kNotFound);
  Ok<ReceiptResult>(Receipt("bob", "phone", 1, false));
  AdminOpResult u = Admin(AdminOp{.kind = Kind::kGetUser, .user = "bob"});
  EXPECT_EQ(u.head, 1);
  EXPECT_EQ(u.undelivered, 0);
  ASSERT_EQ(u.cursors.size(), 1u);
  EXPECT_EQ(u.cursors[0], (std::pair<std::string, int32_t>{"phone", 1}));
}

TEST_F(StoreFeaturesTest, GroupsSurviveReopen) {
  CreateGroup("family", {"alice", "bob"});
  Ok<AppendResult>(ToGroup("alice", "family", "m1"));
  Open();
  AppendResult r = Ok<AppendResult>(ToGroup("bob", "family", "m2"));
  EXPECT_EQ(r.device_copy.user_offset(), 2);
  EXPECT_EQ(r.receivers, (std::vector<std::string>{"alice"}));
}

}  // namespace
}  // namespace courier::storage

namespace courier::storage {
namespace {

TEST_F(StoreFeaturesTest, TrimmingAnUnreceivedCopyStopsCountingIt) {
  // bob's phone acknowledged offset 2 only: offset 1 was never received.
  Ok<AppendResult>(ToUser("alice", "bob", "m1", 1000, 99999));
  Ok<AppendResult>(ToUser("alice", "bob", "m2", 1000));
  Ok<ReceiptResult>(Receipt("bob", "phone", 2, false));
  EXPECT_EQ(Admin(AdminOp{.kind = Kind::kGetUser, .user = "bob"}).undelivered, 1);
  EXPECT_EQ(Ok<TrimResult>(TrimRequest{.older_than_ms = 5000, .max_entries = 100}).removed, 2u);
  EXPECT_EQ(Admin(AdminOp{.kind = Kind::kGetUser, .user = "bob"}).undelivered, 0);
  EXPECT_TRUE(Ok<ExpireResult>(ExpireRequest{.now_ms = 999999, .max_entries = 10}).expired.empty())
      << "a trimmed copy must not expire later";
}

}  // namespace
}  // namespace courier::storage

namespace courier::storage {
namespace {

TEST_F(StoreFeaturesTest, PullReportsHowFarItReached) {
  Ok<AppendResult>(ToUser("alice", "bob", "m1", 1000));
  Ok<AppendResult>(ToUser("alice", "bob", "m2", 1000));
  Ok<AppendResult>(ToUser("alice", "bob", "m3", 1000, 2000));  // expires at 2000
  auto pull = [&](int32_t after, uint32_t limit) {
    return Ok<PullResult>(PullRequest{.user = "bob", .device = "d", .after = after, .limit = limit, .now_ms = 5000});
  };
  PullResult all = pull(0, 10);
  EXPECT_EQ(all.entries.size(), 2u);
  EXPECT_EQ(all.head, 3);
  EXPECT_EQ(all.reached, 3) << "the expired tail is covered, so the client stops";
  PullResult one = pull(0, 1);
  EXPECT_EQ(one.reached, 1);
  PullResult tail = pull(2, 10);
  EXPECT_TRUE(tail.entries.empty());
  EXPECT_EQ(tail.reached, 3);
  EXPECT_EQ(pull(3, 10).reached, 3);
  EXPECT_EQ(pull(7, 10).reached, 3) << "never beyond the head";
}

}  // namespace
}  // namespace courier::storage

// ---------------------------------------------------------------- schema 2 layout
//
// What the tables hold (docs/architecture.md): one body per message, one
// fixed-size copy record per copy, bodies gone with their last copy.

namespace courier::storage {
namespace {

// Entries of each named table of the store at `path`, as its Reader counts
// them; -1 for a table that does not exist.
std::map<std::string, int64_t> TableEntries(const std::string& path, std::vector<std::string> names) {
  std::map<std::string, int64_t> out;
  std::unique_ptr<Reader> reader;
  EXPECT_TRUE(OpenLmdbReader(path, &reader).ok());
  for (const auto& n : names) out[n] = -1;
  if (!reader) return out;
  for (const auto& t : reader->Tables()) {
    if (out.count(t.name)) out[t.name] = t.records;
  }
  return out;
}

class StoreLayoutTest : public StoreFeaturesTest {
 protected:
  std::map<std::string, int64_t> Tables() {
    store_.reset();
    auto t = TableEntries(dir_.Sub("db"), {"bodies", "copies", "refs", "dedup", "expiry", "log"});
    Open();
    return t;
  }
};

TEST_F(StoreLayoutTest, OneBodyPerMessageAndOneRecordPerCopy) {
  Ok<AppendResult>(ToUser("alice", "bob", "m1", 1000, 5000));
  Ok<AppendResult>(ToUser("bob", "alice", "m2", 1000));
  auto t = Tables();
  EXPECT_EQ(t["bodies"], 2);
  EXPECT_EQ(t["copies"], 4);
  EXPECT_EQ(t["refs"], 0) << "written only by retention";
  EXPECT_EQ(t["dedup"], 2);
  EXPECT_EQ(t["expiry"], 1) << "one entry per RECEIVER copy with an expiry";
  EXPECT_EQ(t["log"], -1) << "schema 2 has no log table";
  // Both copies show the one body.
  EXPECT_EQ(Offsets("alice"), (V{1, 2}));
  EXPECT_EQ(Offsets("bob"), (V{1, 2}));
}

TEST_F(StoreLayoutTest, BodyGoesWithItsLastTrimmedCopy) {
  Ok<AppendResult>(ToUser("alice", "bob", "m1", 1000));
  Ok<AppendResult>(ToUser("alice", "bob", "m2", 1000));
  // Only bob has a cursor: his copies go, alice's keep the bodies.
  Ok<ReceiptResult>(Receipt("bob", "phone", 2, true));
  EXPECT_EQ(Ok<TrimResult>(TrimRequest{.older_than_ms = 5000, .max_entries = 100}).removed, 2u);
  auto t = Tables();
  EXPECT_EQ(t["bodies"], 2);
  EXPECT_EQ(t["copies"], 2);
  EXPECT_EQ(t["refs"], 2) << "one copy of each body left";
  auto alice = Ok<PullResult>(PullRequest{.user = "alice", .device = "d", .after = 0, .limit = 10});
  ASSERT_EQ(alice.entries.size(), 2u);
  EXPECT_EQ(alice.entries[1].payload(), "hi m2");
  EXPECT_EQ(alice.entries[1].signal_type(), 2);
  EXPECT_TRUE(alice.entries[1].signal_ack_state().read()) << "bob's receipt reached the sender copy";
  // Now alice's device has both: the last copies go, and the bodies with them.
  Ok<ReceiptResult>(Receipt("alice", "laptop", 2, false));
  EXPECT_EQ(Ok<TrimResult>(TrimRequest{.older_than_ms = 5000, .max_entries = 100}).removed, 2u);
  t = Tables();
  EXPECT_EQ(t["bodies"], 0);
  EXPECT_EQ(t["copies"], 0);
  EXPECT_EQ(t["refs"], 0);
  EXPECT_EQ(t["dedup"], 0);
  // Offsets and user offsets go on; new bodies are stored as before.
  AppendResult again = Ok<AppendResult>(ToUser("alice", "bob", "m1", 9000));
  EXPECT_FALSE(again.duplicate);
  EXPECT_EQ(again.device_copy.signal_offset(), 3);
  EXPECT_EQ(again.device_copy.user_offset(), 3);
  EXPECT_EQ(Offsets("bob"), (V{3}));
}

TEST_F(StoreLayoutTest, GroupBodyCountsCopiesAndReceiptsAcrossReopen) {
  CreateGroup("family", {"alice", "bob", "carol", "dave"});
  AppendResult a = Ok<AppendResult>(ToGroup("alice", "family", "m1"));
  ASSERT_EQ(a.receivers.size(), 3u);
  auto t = Tables();
  EXPECT_EQ(t["bodies"], 1);
  EXPECT_EQ(t["copies"], 4);
  ReceiptResult r = Ok<ReceiptResult>(Receipt("bob", "phone", 1, true));
  EXPECT_EQ(r.recipients, 3u);
  EXPECT_EQ(r.received_count, 1u);
  EXPECT_EQ(r.read_count, 1u);
  Open();  // the counts live on disk
  r = Ok<ReceiptResult>(Receipt("carol", "phone", 1, false));
  EXPECT_EQ(r.received_count, 2u);
  EXPECT_EQ(r.read_count, 1u);
  ASSERT_TRUE(r.peer);
  EXPECT_FALSE(r.peer->signal_ack_state().received());
  r = Ok<ReceiptResult>(Receipt("dave", "phone", 1, false));
  EXPECT_EQ(r.received_count, 3u);
  ASSERT_TRUE(r.peer);
  EXPECT_TRUE(r.peer->signal_ack_state().received()) << "every member has it";
  EXPECT_FALSE(r.peer->signal_ack_state().read());
  EXPECT_EQ(r.peer->payload(), "hi m1");
  EXPECT_EQ(r.peer->to().group(), "family");
  // The receivers' copies carry their own state, the body is shared.
  auto carol = Ok<PullResult>(PullRequest{.user = "carol", .device = "d", .after = 0, .limit = 10});
  ASSERT_EQ(carol.entries.size(), 1u);
  EXPECT_TRUE(carol.entries[0].signal_ack_state().received());
  EXPECT_FALSE(carol.entries[0].signal_ack_state().read());
  EXPECT_EQ(carol.entries[0].signal_type(), 3);
  auto bob = Ok<PullResult>(PullRequest{.user = "bob", .device = "d", .after = 0, .limit = 10});
  ASSERT_EQ(bob.entries.size(), 1u);
  EXPECT_TRUE(bob.entries[0].signal_ack_state().read());
  // A duplicate returns the sender copy with the group state.
  AppendResult dup = Ok<AppendResult>(ToGroup("alice", "family", "m1"));
  EXPECT_TRUE(dup.duplicate);
  EXPECT_TRUE(dup.device_copy.signal_ack_state().received());
  EXPECT_EQ(dup.device_copy.signal_type(), 2);
}

TEST_F(StoreLayoutTest, ExpiredFlagIsKeptPerCopy) {
  CreateGroup("family", {"alice", "bob", "carol"});
  AppendRequest g = ToGroup("alice", "family", "m1");
  g.expires_ms = 2000;
  Ok<AppendResult>(g);
  Ok<ReceiptResult>(Receipt("bob", "phone", 1, false));  // bob got it in time
  ExpireResult x = Ok<ExpireResult>(ExpireRequest{.now_ms = 3000, .max_entries = 10});
  ASSERT_EQ(x.expired.size(), 1u);
  EXPECT_EQ(x.expired[0].receiver, "carol");
  EXPECT_EQ(x.expired[0].sender_offset, 1);
  EXPECT_EQ(x.expired[0].entry.payload(), "hi m1");
  EXPECT_EQ(Offsets("carol", 1), V{}) << "expired stays expired whatever the clock says";
  EXPECT_EQ(Offsets("bob", 9999), (V{1}));
  EXPECT_EQ(Tables()["expiry"], 0);
}

}  // namespace
}  // namespace courier::storage
