// kill -9 while edits are being committed: after every restart each
// original and its edit entries are in step (the original shows the content
// of its latest stored edit, and so do earlier edit entries), every
// acknowledged edit is stored, and the logs have no gap, reuse or duplicate.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "support/durability.h"
#include "support/fixture.h"

namespace courier::it {
namespace {

constexpr int kOriginals = 20;
constexpr int kRounds = 6;

std::string OriginalId(int i) { return "m" + std::to_string(i); }
std::string EditId(int round, int i) { return "e" + std::to_string(round) + "-" + std::to_string(i); }

v1::Message EditOf(int round, int i) {
  v1::Message m = NewMessage(EditId(round, i), "bob", "round " + std::to_string(round));
  m.set_replaces(OriginalId(i));
  return m;
}

class EditCrashTest : public CourierTest {
 protected:
  BrokerOptions Options() const override {
    BrokerOptions o;
    o.plugin_opts = {{"edit_window_s", "0"}};  // the test's own clock must not matter
    return o;
  }

  // `d`'s log: gapless, no id twice, originals in step with their edits, and
  // every id of `acked` present.
  void ExpectInStep(CourierDevice& d, const std::set<std::string>& acked) {
    std::map<int32_t, v1::Message> log;
    int32_t head = 0;
    ASSERT_TRUE(PullWholeLog(d, &log, &head));
    ASSERT_EQ(log.size(), static_cast<size_t>(head)) << d.user() << ": a gap in the log";
    std::map<std::string, const v1::Message*> by_id;
    int32_t expect = 1;
    for (const auto& [offset, m] : log) {
      ASSERT_EQ(offset, expect++) << d.user();
      ASSERT_TRUE(by_id.emplace(m.id(), &m).second) << d.user() << ": twice: " << m.id();
    }
    for (const auto& id : acked) EXPECT_TRUE(by_id.contains(id)) << d.user() << ": acked " << id << " lost";
    for (int i = 0; i < kOriginals; ++i) {
      auto orig = by_id.find(OriginalId(i));
      ASSERT_NE(orig, by_id.end()) << OriginalId(i);
      std::string latest = "v0";
      for (const auto& [offset, m] : log) {
        if (m.replaces() == OriginalId(i)) latest = m.payload();  // every edit entry shows the latest content
      }
      EXPECT_EQ(orig->second->payload(), latest) << d.user() << " " << OriginalId(i);
      EXPECT_EQ(orig->second->edited(), latest != "v0") << d.user() << " " << OriginalId(i);
    }
  }
};

TEST_F(EditCrashTest, OriginalAndEditsStayInStepAcrossKills) {
  auto* a = Online("alice", "a-phone");
  auto* b = Online("bob", "b-phone");
  ASSERT_TRUE(a && b);
  for (int i = 0; i < kOriginals; ++i) ASSERT_TRUE(SendAndWaitAck(*a, NewMessage(OriginalId(i), "bob", "v0")));

  std::set<std::string> acked;
  int retried = 0;  // edits without an ack at the kill: the kills hit work in flight
  for (int round = 1; round <= kRounds; ++round) {
    // A burst of edits, then kill -9 while they are being committed.
    for (int i = 0; i < kOriginals; ++i) ASSERT_TRUE(a->Send(EditOf(round, i)));
    for (const auto& s : a->DrainEvents()) {
      if (IsSenderAck(s)) acked.insert(s.id());
    }
    ASSERT_TRUE(CrashAndRestart());
    ASSERT_NO_FATAL_FAILURE(ExpectInStep(*b, acked)) << "round " << round;
    ASSERT_NO_FATAL_FAILURE(ExpectInStep(*a, acked)) << "round " << round;
    // The sender retries what it has no ack for: dedup applies each once.
    for (int i = 0; i < kOriginals; ++i) {
      if (acked.contains(EditId(round, i))) continue;
      ASSERT_TRUE(Acked(SendAndWaitOutcome(*a, EditOf(round, i)), *a)) << EditId(round, i);
      acked.insert(EditId(round, i));
      ++retried;
    }
  }
  RecordProperty("retried_edits", retried);
  ASSERT_NO_FATAL_FAILURE(ExpectInStep(*b, acked));
  ASSERT_NO_FATAL_FAILURE(ExpectInStep(*a, acked));
  // Every original ends with the last round's content.
  std::map<int32_t, v1::Message> log;
  int32_t head = 0;
  ASSERT_TRUE(PullWholeLog(*b, &log, &head));
  EXPECT_EQ(head, kOriginals * (1 + kRounds));
  for (const auto& [offset, m] : log) EXPECT_EQ(m.payload(), "round " + std::to_string(kRounds)) << m.id();
}

}  // namespace
}  // namespace courier::it
