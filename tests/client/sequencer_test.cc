// Unit tests of the client's Sequencer: ordering, dedup, gap pulls, holes.
#include "sequencer.h"

#include <gtest/gtest.h>

namespace courier::client::detail {
namespace {

Message Entry(int32_t offset, bool pulled = false) {
  Message m;
  m.id = "m" + std::to_string(offset);
  m.offset = offset;
  m.pulled = pulled;
  return m;
}

std::vector<int32_t> Offsets(const std::vector<Message>& ms) {
  std::vector<int32_t> out;
  for (const auto& m : ms) out.push_back(m.offset);
  return out;
}

TEST(Sequencer, DeliversInOrderAndDropsDuplicates) {
  Sequencer s(0, "p");
  std::vector<Message> out;
  EXPECT_FALSE(s.OnEntry(Entry(1), &out));
  EXPECT_FALSE(s.OnEntry(Entry(1), &out));
  EXPECT_FALSE(s.OnEntry(Entry(2), &out));
  EXPECT_EQ(Offsets(out), (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(s.cursor(), 2);
}

TEST(Sequencer, GapAsksForOnePullAndFillsIt) {
  Sequencer s(0, "p");
  std::vector<Message> out;
  auto pull = s.OnEntry(Entry(3), &out);
  ASSERT_TRUE(pull);
  EXPECT_EQ(pull->after, 0);
  EXPECT_FALSE(s.OnEntry(Entry(4), &out)) << "a pull is already running";
  EXPECT_TRUE(out.empty());
  s.OnEntry(Entry(1, true), &out);
  s.OnEntry(Entry(2, true), &out);
  EXPECT_EQ(Offsets(out), (std::vector<int32_t>{1, 2, 3, 4}));
  bool synced = false;
  std::optional<int32_t> reset;
  EXPECT_FALSE(s.OnPullResponse(pull->id, 4, 2, &out, &synced, &reset));
  EXPECT_TRUE(synced);
  EXPECT_EQ(s.cursor(), 4);
}

TEST(Sequencer, PagesUntilTheHead) {
  Sequencer s(0, "p");
  std::vector<Message> out;
  auto pull = s.StartSync(StartFrom::kServerCursor);
  EXPECT_EQ(pull.after, 0);
  s.OnEntry(Entry(1, true), &out);
  s.OnEntry(Entry(2, true), &out);
  bool synced = false;
  std::optional<int32_t> reset;
  auto next = s.OnPullResponse(pull.id, 5, 2, &out, &synced, &reset);
  ASSERT_TRUE(next);
  EXPECT_FALSE(synced);
  EXPECT_EQ(next->after, 2);
  EXPECT_FALSE(s.OnPullResponse(pull.id, 5, 2, &out, &synced, &reset)) << "stale id";
}

TEST(Sequencer, SkipsOffsetsAPullProvedAbsent) {
  Sequencer s(2, "p");
  std::vector<Message> out;
  auto pull = s.StartSync(StartFrom::kServerCursor);
  s.OnEntry(Entry(5, true), &out);  // 3 and 4 expired
  bool synced = false;
  std::optional<int32_t> reset;
  EXPECT_FALSE(s.OnPullResponse(pull.id, 5, 1, &out, &synced, &reset));
  EXPECT_EQ(Offsets(out), (std::vector<int32_t>{5}));
  EXPECT_TRUE(synced);

  auto again = s.OnEntry(Entry(8), &out);  // 6, 7 missing
  ASSERT_TRUE(again);
  EXPECT_FALSE(s.OnPullResponse(again->id, 8, 0, &out, &synced, &reset))
      << "nothing after 5 but the head is 8: 6 and 7 do not exist";
  EXPECT_EQ(Offsets(out), (std::vector<int32_t>{5, 8}));
  EXPECT_TRUE(synced);
}

TEST(Sequencer, UnknownCursorFromServerCursor) {
  Sequencer s(std::nullopt, "p");
  auto pull = s.StartSync(StartFrom::kServerCursor);
  EXPECT_EQ(pull.after, -1);
  std::vector<Message> out;
  s.OnEntry(Entry(9), &out);  // live, before the pulled ones
  s.OnEntry(Entry(7, true), &out);
  s.OnEntry(Entry(8, true), &out);
  EXPECT_TRUE(out.empty()) << "nothing before the cursor is known";
  bool synced = false;
  std::optional<int32_t> reset;
  EXPECT_FALSE(s.OnPullResponse(pull.id, 9, 2, &out, &synced, &reset));
  EXPECT_EQ(Offsets(out), (std::vector<int32_t>{7, 8, 9}));
  EXPECT_TRUE(synced);
}

TEST(Sequencer, UnknownCursorFromNow) {
  Sequencer s(std::nullopt, "p");
  auto pull = s.StartSync(StartFrom::kNow);
  EXPECT_TRUE(pull.head_only);
  std::vector<Message> out;
  s.OnEntry(Entry(4), &out);  // older than "now"
  s.OnEntry(Entry(6), &out);
  bool synced = false;
  std::optional<int32_t> reset;
  EXPECT_FALSE(s.OnPullResponse(pull.id, 5, 0, &out, &synced, &reset));
  EXPECT_EQ(Offsets(out), (std::vector<int32_t>{6}));
  EXPECT_EQ(s.cursor(), 6);
}

TEST(Sequencer, HeadBelowCursorResets) {
  Sequencer s(10, "p");
  auto pull = s.StartSync(StartFrom::kServerCursor);
  std::vector<Message> out;
  bool synced = false;
  std::optional<int32_t> reset;
  s.OnPullResponse(pull.id, 3, 0, &out, &synced, &reset);
  EXPECT_EQ(reset, 10);
  EXPECT_EQ(s.cursor(), 3);
  EXPECT_TRUE(synced);
  s.OnEntry(Entry(4), &out);
  EXPECT_EQ(Offsets(out), (std::vector<int32_t>{4}));
}

TEST(Sequencer, FailedPullIsRetriedFromTheCursor) {
  Sequencer s(1, "p");
  std::vector<Message> out;
  auto pull = s.OnEntry(Entry(3), &out);
  ASSERT_TRUE(pull);
  EXPECT_FALSE(s.OnPullFailed("other"));
  auto retry = s.OnPullFailed(pull->id);
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->after, 1);
  EXPECT_NE(retry->id, pull->id);
}

}  // namespace
}  // namespace courier::client::detail
