// Administration: groups and per-user state through AdminRequest. On every engine (store_engine.h).
#include <string>
#include <variant>
#include <vector>

#include "store_fixture.h"

namespace courier::storage::testing {
namespace {

class AdminTest : public StoreFeaturesTest {};
COURIER_STORE_ENGINES(AdminTest);

TEST_P(AdminTest, AdminGroupsAndUsers) {
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

}  // namespace
}  // namespace courier::storage::testing
