// Edit and recall against a real broker (docs/protocol.md "Edit and
// recall"): the entry reaches every device like a message, the original
// changes for every later pull, and each broken rule has its code.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "support/feature_fixture.h"

namespace courier::it {
namespace {

v1::Message EditOf(const std::string& id, const std::string& original, const std::string& to,
                   const std::string& payload) {
  v1::Message m = NewMessage(id, to, payload);
  m.set_replaces(original);
  return m;
}

v1::Message RecallOf(const std::string& id, const std::string& original, const std::string& to) {
  v1::Message m = NewMessage(id, to, "");
  m.set_replaces(original);
  m.set_recall(true);
  return m;
}

class EditTest : public FeatureTest {
 protected:
  // alice (phone, laptop) sends "m1" to bob; bob's phone gets it and reads it.
  void SendAndRead() {
    a1 = Online("alice", "a-phone");
    a2 = Online("alice", "a-laptop");
    b1 = Online("bob", "b-phone");
    b2 = Offline("bob", "b-tablet");
    ASSERT_TRUE(a1 && a2 && b1 && b2);
    ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("m1", "bob", "see you at 8")));
    auto copy = b1->NextInbox(WithId("m1"));
    ASSERT_TRUE(copy) << b1->Pending();
    ASSERT_TRUE(b1->Signal(ReceiptFor("m1", copy->signal_offset(), true, true)));
    ASSERT_TRUE(a1->NextEvent(NoticeFor("m1", kReceiver)));
  }
  // The error code a1 gets for sending `m` ("" when none arrives).
  std::string Refused(const v1::Message& m) {
    if (!a1->Send(m)) return "";
    auto e = a1->NextDeviceEvent(AnyError());
    if (!e) return "";
    return e->error().substr(0, e->error().find(':'));
  }

  CourierDevice* a1 = nullptr;
  CourierDevice* a2 = nullptr;
  CourierDevice* b1 = nullptr;
  CourierDevice* b2 = nullptr;
};

TEST_F(EditTest, EditReachesEveryDeviceAndOfflineTabletPullsTheFinalState) {
  ASSERT_NO_FATAL_FAILURE(SendAndRead());
  auto ack = SendAndWaitAck(*a1, EditOf("e1", "m1", "bob", "see you at 9"));
  ASSERT_TRUE(ack) << a1->Pending();
  EXPECT_EQ(ack->signal_offset(), 2);
  EXPECT_EQ(ack->user_offset(), 2);

  // bob's online phone: the edit entry, at its own offset.
  auto entry = b1->NextInbox(WithId("e1"));
  ASSERT_TRUE(entry) << b1->Pending();
  EXPECT_EQ(entry->replaces(), "m1");
  EXPECT_EQ(entry->payload(), "see you at 9");
  EXPECT_EQ(entry->signal_type(), kReceiver);
  EXPECT_EQ(entry->signal_offset(), 2);
  // alice's other device: the DEVICE copy.
  auto mine = a2->NextInbox(WithId("e1"));
  ASSERT_TRUE(mine) << a2->Pending();
  EXPECT_EQ(mine->signal_type(), kDevice);
  EXPECT_EQ(mine->replaces(), "m1");

  // bob's tablet was offline: it pulls the original, already edited, then
  // the edit entry.
  ASSERT_TRUE(b2->Connect());
  Pulled p = Pull(*b2, 0);
  ASSERT_EQ(Ids(p.entries), (std::vector<std::string>{"m1", "e1"}));
  EXPECT_EQ(p.entries[0].payload(), "see you at 9");
  EXPECT_TRUE(p.entries[0].edited());
  EXPECT_TRUE(p.entries[0].signal_ack_state().read()) << "the original keeps its ticks";
  EXPECT_EQ(p.entries[1].replaces(), "m1");
  // alice's own log shows the same.
  p = Pull(*a2, 0);
  ASSERT_EQ(Ids(p.entries), (std::vector<std::string>{"m1", "e1"}));
  EXPECT_EQ(p.entries[0].payload(), "see you at 9");
  EXPECT_TRUE(p.entries[0].edited());
}

TEST_F(EditTest, RecallErasesTheContentFromEveryPull) {
  ASSERT_NO_FATAL_FAILURE(SendAndRead());
  ASSERT_TRUE(SendAndWaitAck(*a1, EditOf("e1", "m1", "bob", "see you at 9")));
  ASSERT_TRUE(SendAndWaitAck(*a2, RecallOf("r1", "m1", "bob")));  // from her other device
  auto entry = b1->NextInbox(WithId("r1"));
  ASSERT_TRUE(entry) << b1->Pending();
  EXPECT_TRUE(entry->recall());
  EXPECT_EQ(entry->replaces(), "m1");
  EXPECT_TRUE(a1->NextInbox(WithId("r1"))) << "the sender's other device gets the DEVICE copy";

  ASSERT_TRUE(b2->Connect());
  for (CourierDevice* d : {b2, a1}) {
    Pulled p = Pull(*d, 0);
    ASSERT_EQ(Ids(p.entries), (std::vector<std::string>{"m1", "e1", "r1"})) << d->user();
    for (const auto& m : p.entries) {
      EXPECT_EQ(m.payload(), "") << Describe(m);
      EXPECT_EQ(m.encrypted(), "") << Describe(m);
    }
    EXPECT_TRUE(p.entries[0].recalled());
    EXPECT_TRUE(p.entries[1].recalled());
  }
}

TEST_F(EditTest, EachRuleHasItsCode) {
  ASSERT_NO_FATAL_FAILURE(SendAndRead());
  auto* c1 = Online("carol", "c-phone");
  ASSERT_TRUE(c1);
  ASSERT_TRUE(SendAndWaitAck(*c1, NewMessage("c1", "bob", "carol's")));
  EXPECT_EQ(Refused(EditOf("x1", "nope", "bob", "v2")), "unknown_original");
  EXPECT_EQ(Refused(EditOf("x2", "c1", "bob", "v2")), "unknown_original");
  EXPECT_EQ(Refused(EditOf("x3", "m1", "carol", "v2")), "edit_changes_recipient");
  EXPECT_EQ(Refused(EditOf("x4", "x4", "bob", "v2")), "invalid_edit");
  v1::Message loud = RecallOf("x5", "m1", "bob");
  loud.set_payload("still here");
  EXPECT_EQ(Refused(loud), "recall_has_content");
  ASSERT_TRUE(SendAndWaitAck(*a1, RecallOf("r1", "m1", "bob")));
  EXPECT_EQ(Refused(EditOf("x6", "m1", "bob", "v3")), "already_recalled");
  EXPECT_EQ(Refused(RecallOf("x7", "m1", "bob")), "already_recalled");
}

class EditWindowTest : public EditTest {
 protected:
  Opts ExtraOptions() const override { return {{"edit_window_s", "1"}, {"recall_window_s", "3600"}}; }
};

TEST_F(EditWindowTest, EditAfterTheWindowIsRefusedButRecallStillWorks) {
  ASSERT_NO_FATAL_FAILURE(SendAndRead());
  // The window counts from the original's server_timestamp: let 1 s pass.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(Refused(EditOf("e1", "m1", "bob", "v2")), "edit_window_closed");
  EXPECT_TRUE(SendAndWaitAck(*a1, RecallOf("r1", "m1", "bob")));
}

TEST_F(EditTest, RetriedEditIsAppliedOnce) {
  ASSERT_NO_FATAL_FAILURE(SendAndRead());
  auto first = SendAndWaitAck(*a1, EditOf("e1", "m1", "bob", "v2"));
  ASSERT_TRUE(first);
  ASSERT_TRUE(b1->NextInbox(WithId("e1")));
  auto again = SendAndWaitAck(*a2, EditOf("e1", "m1", "bob", "v2"));  // the same id from another device
  ASSERT_TRUE(again);
  EXPECT_EQ(again->signal_offset(), first->signal_offset());
  EXPECT_FALSE(b1->NextInbox(WithId("e1"), std::chrono::milliseconds(300))) << "no second copy";
  ASSERT_TRUE(b2->Connect());
  EXPECT_EQ(Ids(Pull(*b2, 0).entries), (std::vector<std::string>{"m1", "e1"}));
}

TEST_F(EditTest, EditInAGroupReachesEveryMember) {
  auto* admin = Admin();
  ASSERT_TRUE(admin);
  ASSERT_TRUE(admin->CreateGroup("team", {"alice", "bob", "carol"}));
  a1 = Online("alice", "a-phone");
  b1 = Online("bob", "b-phone");
  auto* c1 = Online("carol", "c-phone");
  ASSERT_TRUE(a1 && b1 && c1);
  ASSERT_TRUE(SendAndWaitAck(*a1, GroupMessage("g1", "team", "lunch at 12")));
  v1::Message edit = GroupMessage("ge1", "team", "lunch at 1");
  edit.set_replaces("g1");
  ASSERT_TRUE(SendAndWaitAck(*a1, edit));
  for (CourierDevice* d : {b1, c1}) {
    auto entry = d->NextInbox(WithId("ge1"));
    ASSERT_TRUE(entry) << d->Pending();
    EXPECT_EQ(entry->replaces(), "g1");
    EXPECT_EQ(entry->to().group(), "team");
    Pulled p = Pull(*d, 0);
    ASSERT_EQ(Ids(p.entries), (std::vector<std::string>{"g1", "ge1"}));
    EXPECT_EQ(p.entries[0].payload(), "lunch at 1");
    EXPECT_TRUE(p.entries[0].edited());
  }
}

}  // namespace
}  // namespace courier::it
