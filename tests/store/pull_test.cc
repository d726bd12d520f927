// Pull: ranges, the head, the cursor (-1), and how far a pull reached past
// expired entries. On every engine (store_engine.h).
#include <string>
#include <variant>
#include <vector>

#include "store_fixture.h"

namespace courier::storage::testing {
namespace {

class PullFeaturesTest : public StoreFeaturesTest {};
COURIER_STORE_ENGINES(PullFeaturesTest);
class PullTest : public StoreTest {};
COURIER_STORE_ENGINES(PullTest);

TEST_P(PullTest, PullRanges) {
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

TEST_P(PullFeaturesTest, PullReportsHowFarItReached) {
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
}  // namespace courier::storage::testing
