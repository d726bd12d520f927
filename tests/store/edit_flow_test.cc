// Edit and recall through the Engine and a real store (no broker), on every
// engine: the entry is appended like any message, the stored original
// changes in the same transaction, and each broken rule has its error code.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "flow_fixture.h"

namespace courier {
namespace {

using courier::testing::AckIn;
using courier::testing::AsMessage;
using courier::testing::AsSignal;
using courier::testing::FlowTest;
using courier::testing::Msg;
using courier::testing::On;
using courier::testing::TopicsOf;
using courier::v1::Message;
using courier::v1::Signal;

Message Edit(std::string id, std::string original, std::string to, std::string payload) {
  Message m = Msg(std::move(id), std::move(to), std::move(payload));
  m.set_replaces(std::move(original));
  return m;
}

Message Recall(std::string id, std::string original, std::string to) {
  Message m = Msg(std::move(id), std::move(to), "");
  m.set_replaces(std::move(original));
  m.set_recall(true);
  return m;
}

class EditFlowTest : public FlowTest {
 protected:
  // The error code of the one error Signal in `out` ("" when there is none).
  static std::string ErrorIn(const std::vector<core::Publish>& out, const std::string& user,
                             const std::string& device) {
    auto errs = On(out, "msg/" + user + "/devices/" + device + "/events");
    if (errs.size() != 1) return "";
    Signal s = AsSignal(errs[0]);
    EXPECT_EQ(s.type(), 3);
    return s.error().substr(0, s.error().find(':'));
  }
  // Every entry of `user`'s log, pulled by `device` from the start.
  std::vector<Message> Log(const std::string& user, const std::string& device = "tablet") {
    std::vector<Message> v;
    for (const auto& p : Signals(user, device, courier::testing::PullSignal("p", 0, 100))) {
      if (p.topic == "msg/" + user + "/devices/" + device + "/inbox") v.push_back(AsMessage(p));
    }
    return v;
  }
};

COURIER_STORE_ENGINES(EditFlowTest);

TEST_P(EditFlowTest, EditIsAnEntryAndChangesTheOriginal) {
  Send("alice", "phone", Msg("m1", "bob", "helo"));
  auto out = Send("alice", "phone", Edit("e1", "m1", "bob", "hello"));
  // Appended like any message: RECEIVER copy, DEVICE copy, SENDER ack.
  auto to_bob = On(out, "msg/bob/inbox");
  ASSERT_EQ(to_bob.size(), 1u) << ::testing::PrintToString(TopicsOf(out));
  Message e = AsMessage(to_bob[0]);
  EXPECT_EQ(e.id(), "e1");
  EXPECT_EQ(e.replaces(), "m1");
  EXPECT_EQ(e.payload(), "hello");
  EXPECT_EQ(e.signal_offset(), 2);
  EXPECT_EQ(e.user_offset(), 2);
  EXPECT_EQ(On(out, "msg/alice/inbox").size(), 1u);
  EXPECT_EQ(AckIn(out, "alice").signal_offset(), 2);

  // A later pull of the original's offset shows the new content.
  auto log = Log("bob");
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].id(), "m1");
  EXPECT_EQ(log[0].payload(), "hello");
  EXPECT_TRUE(log[0].edited());
  EXPECT_FALSE(log[0].recalled());
  EXPECT_EQ(log[1].id(), "e1");
  auto mine = Log("alice");
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine[0].payload(), "hello");
  EXPECT_TRUE(mine[0].edited());
}

TEST_P(EditFlowTest, RecallErasesTheOriginalAndEarlierEdits) {
  Send("alice", "phone", Msg("m1", "bob", "secret"));
  Send("alice", "phone", Edit("e1", "m1", "bob", "secret, edited"));
  auto out = Send("alice", "laptop", Recall("r1", "m1", "bob"));  // any device of the sender
  EXPECT_EQ(AckIn(out, "alice").signal_offset(), 3);
  auto log = Log("bob");
  ASSERT_EQ(log.size(), 3u);
  for (const auto& m : log) {
    EXPECT_EQ(m.payload(), "") << m.id();
    EXPECT_TRUE(m.encrypted().empty());
  }
  EXPECT_TRUE(log[0].recalled());
  EXPECT_TRUE(log[1].recalled());  // the edit entry's content went too
  EXPECT_TRUE(log[2].recall());
  EXPECT_EQ(log[2].replaces(), "m1");
}

TEST_P(EditFlowTest, LaterEditRewritesEarlierEditEntries) {
  Send("alice", "phone", Msg("m1", "bob", "v1"));
  Send("alice", "phone", Edit("e1", "m1", "bob", "v2"));
  Send("alice", "phone", Edit("e2", "m1", "bob", "v3"));
  auto log = Log("bob");
  ASSERT_EQ(log.size(), 3u);
  for (const auto& m : log) EXPECT_EQ(m.payload(), "v3") << m.id();
}

TEST_P(EditFlowTest, RetriedEditIsAppliedOnce) {
  Send("alice", "phone", Msg("m1", "bob", "v1"));
  auto first = Send("alice", "phone", Edit("e1", "m1", "bob", "v2"));
  auto again = Send("alice", "phone", Edit("e1", "m1", "bob", "v2"));
  EXPECT_TRUE(On(again, "msg/bob/inbox").empty());
  EXPECT_EQ(AckIn(again, "alice").signal_offset(), AckIn(first, "alice").signal_offset());
  EXPECT_EQ(Log("bob").size(), 2u);
  // The original, retried after it was edited, is still the same message.
  auto retry = Send("alice", "phone", Msg("m1", "bob", "v1"));
  EXPECT_EQ(AckIn(retry, "alice").signal_offset(), 1);
  // After a second edit the first edit's retry is still a duplicate.
  Send("alice", "phone", Edit("e2", "m1", "bob", "v3"));
  EXPECT_EQ(AckIn(Send("alice", "phone", Edit("e1", "m1", "bob", "v2")), "alice").signal_offset(), 2);
}

TEST_P(EditFlowTest, EachBrokenRuleHasItsCode) {
  Send("alice", "phone", Msg("m1", "bob", "v1"));
  Send("carol", "phone", Msg("c1", "bob", "carol's"));
  Message fire_and_forget = Msg("t1", "bob", "gone");
  fire_and_forget.set_transient(true);
  Send("alice", "phone", fire_and_forget);
  auto code = [&](const Message& m) { return ErrorIn(Send("alice", "phone", m), "alice", "phone"); };
  EXPECT_EQ(code(Edit("x1", "nope", "bob", "v2")), "unknown_original");
  EXPECT_EQ(code(Edit("x2", "c1", "bob", "v2")), "unknown_original");  // another user's id
  EXPECT_EQ(code(Edit("x3", "t1", "bob", "v2")), "unknown_original");  // transient: never stored
  EXPECT_EQ(code(Edit("x4", "m1", "carol", "v2")), "edit_changes_recipient");
  EXPECT_EQ(code(Edit("x5", "x5", "bob", "v2")), "invalid_edit");
  Message transient = Edit("x6", "m1", "bob", "v2");
  transient.set_transient(true);
  EXPECT_EQ(code(transient), "invalid_edit");
  Message bare_recall = Recall("x7", "", "bob");
  EXPECT_EQ(code(bare_recall), "invalid_edit");
  Message loud_recall = Recall("x8", "m1", "bob");
  loud_recall.set_payload("still here");
  EXPECT_EQ(code(loud_recall), "recall_has_content");
  Send("alice", "phone", Edit("e1", "m1", "bob", "v2"));
  EXPECT_EQ(code(Edit("x9", "e1", "bob", "v3")), "unknown_original");  // an edit is not an original
  Send("alice", "phone", Recall("r1", "m1", "bob"));
  EXPECT_EQ(code(Edit("x10", "m1", "bob", "v3")), "already_recalled");
  EXPECT_EQ(code(Recall("x11", "m1", "bob")), "already_recalled");
  // None of the refused ones wrote anything: m1, c1, e1, r1.
  EXPECT_EQ(Log("bob").size(), 4u);
}

TEST_P(EditFlowTest, WindowsCountFromTheOriginal) {
  core::CoreOptions o;
  o.edit_window_s = 60;
  o.recall_window_s = 120;
  engine_ = core::Engine(o);
  Send("alice", "phone", Msg("m1", "bob", "v1"));
  now_ += 61'000;
  EXPECT_EQ(ErrorIn(Send("alice", "phone", Edit("e1", "m1", "bob", "v2")), "alice", "phone"), "edit_window_closed");
  EXPECT_TRUE(AckIn(Send("alice", "phone", Recall("r1", "m1", "bob")), "alice").signal_offset_state());
  Send("alice", "phone", Msg("m2", "bob", "v1"));
  now_ += 121'000;
  EXPECT_EQ(ErrorIn(Send("alice", "phone", Recall("r2", "m2", "bob")), "alice", "phone"), "edit_window_closed");
}

TEST_P(EditFlowTest, ClientCannotSetServerFlags) {
  Message m = Msg("m1", "bob", "v1");
  m.set_edited(true);
  m.set_recalled(true);
  auto out = Send("alice", "phone", m);
  Message r = AsMessage(On(out, "msg/bob/inbox").at(0));
  EXPECT_FALSE(r.edited());
  EXPECT_FALSE(r.recalled());
}

TEST_P(EditFlowTest, RetentionKeepsTheEditsDedupUntilItRemovesTheEdit) {
  Send("alice", "phone", Msg("m1", "bob", "v1"));
  const int32_t e1_offset = AckIn(Send("alice", "phone", Edit("e1", "m1", "bob", "v2")), "alice").signal_offset();
  // bob's device has both entries; alice's only the original.
  Signals("bob", "tablet", courier::testing::Receipt("e1", 2, false));
  Signals("alice", "phone", courier::testing::Receipt("m1", 1, false));
  auto trim = [&] {
    store_->Submit(storage::TrimRequest{.older_than_ms = now_ + 1, .max_entries = 100});
    store_->Flush();
  };
  trim();  // the original goes from both logs, with its dedup record
  EXPECT_EQ(AckIn(Send("alice", "phone", Edit("e1", "m1", "bob", "v2")), "alice").signal_offset(), e1_offset)
      << "the edit's own id is still deduplicated";
  EXPECT_EQ(ErrorIn(Send("alice", "phone", Edit("e2", "m1", "bob", "v3")), "alice", "phone"), "unknown_original");
  Signals("alice", "phone", courier::testing::Receipt("e1", e1_offset, false));
  trim();  // the walk over users ended after bob: this slice starts it over,
  trim();  // and this one removes the edit entry too
  EXPECT_EQ(ErrorIn(Send("alice", "phone", Edit("e1", "m1", "bob", "v2")), "alice", "phone"), "unknown_original")
      << "a new message again, whose original is gone";
}

TEST_P(EditFlowTest, EditInAGroup) {
  core::CoreOptions o;
  o.admin_users = {"admin"};
  engine_ = core::Engine(o);
  auto created = engine_.OnControl(core::Inbound{
      .topic = "$CONTROL/courier/v1",
      .payload = R"({"commands":[{"command":"createGroup","group":"team","members":["alice","bob","carol"]}]})",
      .user = "admin",
      .client_id = "adm",
      .now_ms = now_});
  for (auto& r : created.requests) store_->Submit(std::move(r));
  store_->Flush();
  Message g = Msg("g1", "", "hi team");
  g.mutable_to()->clear_user();
  g.mutable_to()->set_group("team");
  Send("alice", "phone", g);
  Message e = Edit("ge1", "g1", "", "hi all");
  e.mutable_to()->clear_user();
  e.mutable_to()->set_group("team");
  auto out = Send("alice", "phone", e);
  EXPECT_EQ(On(out, "msg/bob/inbox").size(), 1u);
  EXPECT_EQ(On(out, "msg/carol/inbox").size(), 1u);
  for (const char* member : {"bob", "carol"}) {
    auto log = Log(member);
    ASSERT_EQ(log.size(), 2u) << member;
    EXPECT_EQ(log[0].payload(), "hi all");
    EXPECT_TRUE(log[0].edited());
    EXPECT_EQ(log[1].user_offset(), 2);
  }
  // The group's edit cannot move to a user conversation.
  EXPECT_EQ(ErrorIn(Send("alice", "phone", Edit("ge2", "g1", "bob", "x")), "alice", "phone"), "edit_changes_recipient");
}

}  // namespace
}  // namespace courier
