// Groups: delivery to every other member, refusals, membership changes,
// receipts counted on the sender copy, the members request, reopen. On every engine (store_engine.h).
#include <string>
#include <variant>
#include <vector>

#include "store_fixture.h"

namespace courier::storage::testing {
namespace {

class GroupsTest : public StoreFeaturesTest {};
COURIER_STORE_ENGINES(GroupsTest);

TEST_P(GroupsTest, GroupMessageGoesToEveryOtherMember) {
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

TEST_P(GroupsTest, GroupRefusals) {
  CreateGroup("family", {"alice", "bob"});
  EXPECT_EQ(Run(ToGroup("mallory", "family", "x")).status.code(), Status::Code::kForbidden);
  EXPECT_EQ(Run(ToGroup("alice", "nope", "x")).status.code(), Status::Code::kNotFound);
  EXPECT_TRUE(Offsets("bob").empty());
  EXPECT_TRUE(Offsets("alice").empty());
}

TEST_P(GroupsTest, MembershipChangesApplyToLaterMessages) {
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

TEST_P(GroupsTest, GroupReceiptsAreCountedOnTheSenderCopy) {
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

TEST_P(GroupsTest, MembersRequest) {
  CreateGroup("family", {"alice", "bob"});
  auto m = Ok<MembersResult>(MembersRequest{.user = "alice", .group = "family"});
  EXPECT_EQ(m.members, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(Run(MembersRequest{.user = "eve", .group = "family"}).status.code(), Status::Code::kForbidden);
  EXPECT_EQ(Run(MembersRequest{.user = "alice", .group = "none"}).status.code(), Status::Code::kNotFound);
}

TEST_P(GroupsTest, GroupsSurviveReopen) {
  CreateGroup("family", {"alice", "bob"});
  Ok<AppendResult>(ToGroup("alice", "family", "m1"));
  Open();
  AppendResult r = Ok<AppendResult>(ToGroup("bob", "family", "m2"));
  EXPECT_EQ(r.device_copy.user_offset(), 2);
  EXPECT_EQ(r.receivers, (std::vector<std::string>{"alice"}));
}

}  // namespace
}  // namespace courier::storage::testing
