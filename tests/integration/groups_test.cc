// Groups: a Message or activity Signal with to.group goes to every
// member but the sender. Each member's log gets a RECEIVER copy at its own
// offset, the sender's log the DEVICE copy; one user_offset sequence per
// group. Only members may send; membership changes apply to later messages;
// members' receipts reach the sender with per-group counts.
#include <gtest/gtest.h>

#include "support/feature_fixture.h"

namespace courier::it {
namespace {

class GroupsTest : public FeatureTest {
 protected:
  // ---- the phases of OfflineMemberPullsGroupBacklogWithOwnOffsetsAndSharedUserOffsets ----
  // alice sends g-1 and g-2 to g1, then bob g-3 (after his 1:1 "pre" to
  // carol). SENDER acks: the sender's own offset, the group's user_offset.
  void SendThreeToTheGroup(CourierDevice& a1, CourierDevice& b1) {
    auto ack1 = SendAndWaitAck(a1, GroupMessage("g-1", "g1", "one"));
    ASSERT_TRUE(ack1) << a1.Pending();
    auto ack2 = SendAndWaitAck(a1, GroupMessage("g-2", "g1", "two"));
    ASSERT_TRUE(ack2) << a1.Pending();
    auto ack3 = SendAndWaitAck(b1, GroupMessage("g-3", "g1", "three"));
    ASSERT_TRUE(ack3) << b1.Pending();

    EXPECT_EQ(ack1->signal_offset(), 1) << Describe(*ack1);
    EXPECT_EQ(ack1->user_offset(), 1) << Describe(*ack1);
    EXPECT_EQ(ack1->to().group(), "g1") << Describe(*ack1);
    EXPECT_TRUE(ack1->signal_offset_state());
    EXPECT_EQ(ack2->signal_offset(), 2) << Describe(*ack2);
    EXPECT_EQ(ack2->user_offset(), 2) << Describe(*ack2);
    EXPECT_EQ(ack3->signal_offset(), 4) << "bob: pre=1, g-1=2, g-2=3, g-3=4; " << Describe(*ack3);
    EXPECT_EQ(ack3->user_offset(), 3) << Describe(*ack3);
  }

  // Live: alice's inbox holds her two DEVICE copies and bob's message as a
  // RECEIVER copy, and nothing else (a RECEIVER copy of her own message would
  // come before g-3's).
  void ExpectAlicesOtherDeviceGotAllThree(CourierDevice& a2) {
    auto got = a2.client().WaitForCount(a2.inbox(), 3);
    ASSERT_EQ(got.size(), 3u) << a2.Pending();
    struct Want {
      const char* id;
      int type;
      int offset;
      int user_offset;
      const char* from;
    };
    const Want want[] = {
        {"g-1", kDevice, 1, 1, "alice"}, {"g-2", kDevice, 2, 2, "alice"}, {"g-3", kReceiver, 3, 3, "bob"}};
    for (size_t i = 0; i < 3; ++i) {
      auto m = ParseMessage(got[i].payload);
      ASSERT_TRUE(m);
      EXPECT_EQ(m->id(), want[i].id) << Describe(*m);
      EXPECT_EQ(m->signal_type(), want[i].type) << Describe(*m);
      EXPECT_EQ(m->signal_offset(), want[i].offset) << Describe(*m);
      EXPECT_EQ(m->user_offset(), want[i].user_offset) << Describe(*m);
      EXPECT_EQ(m->from().user(), want[i].from) << Describe(*m);
      EXPECT_EQ(m->to().group(), "g1") << Describe(*m);
      EXPECT_TRUE(m->to().user().empty()) << Describe(*m);
    }
  }

  // bob's inbox: his DEVICE copy of "pre", alice's two as RECEIVER copies at
  // his offsets, his own g-3 as DEVICE copy.
  void ExpectBobsOtherDeviceGotHisLog(CourierDevice& b2) {
    auto got = b2.client().WaitForCount(b2.inbox(), 4);
    ASSERT_EQ(got.size(), 4u) << b2.Pending();
    struct Want {
      const char* id;
      int type;
      int offset;
    };
    const Want want[] = {{"pre", kDevice, 1}, {"g-1", kReceiver, 2}, {"g-2", kReceiver, 3}, {"g-3", kDevice, 4}};
    for (size_t i = 0; i < 4; ++i) {
      auto m = ParseMessage(got[i].payload);
      ASSERT_TRUE(m);
      EXPECT_EQ(m->id(), want[i].id) << Describe(*m);
      EXPECT_EQ(m->signal_type(), want[i].type) << Describe(*m);
      EXPECT_EQ(m->signal_offset(), want[i].offset) << Describe(*m);
    }
  }

  // The sending devices get only what others sent: their own DEVICE copies
  // are not echoed back to them.
  void ExpectSendingDevicesGotOnlyOthers(CourierDevice& a1, CourierDevice& b1) {
    auto got = a1.client().WaitForCount(a1.inbox(), 1);
    ASSERT_EQ(got.size(), 1u) << a1.Pending();
    auto m = ParseMessage(got[0].payload);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->id(), "g-3") << Describe(*m);
    got = b1.client().WaitForCount(b1.inbox(), 2);
    ASSERT_EQ(got.size(), 2u) << b1.Pending();
    for (size_t i = 0; i < 2; ++i) {
      m = ParseMessage(got[i].payload);
      ASSERT_TRUE(m);
      EXPECT_EQ(m->id(), i == 0 ? "g-1" : "g-2") << Describe(*m);
      EXPECT_EQ(m->signal_type(), kReceiver) << Describe(*m);
    }
  }

  // carol comes online and pulls her backlog: in order, her own offsets,
  // the group's user_offsets 1, 2, 3 without gaps.
  void ExpectCarolPullsTheBacklog() {
    auto* c1 = Online("carol", "c1");
    ASSERT_TRUE(c1);
    auto r = Pull(*c1, 0);
    ASSERT_TRUE(r.response);
    EXPECT_EQ(r.response->signal_offset(), 4) << "carol's head";
    EXPECT_EQ(r.response->limit(), 4u);
    ASSERT_EQ(r.entries.size(), 4u) << c1->Pending();
    EXPECT_EQ(Ids(r.entries), (std::vector<std::string>{"pre", "g-1", "g-2", "g-3"}));
    EXPECT_EQ(Offsets(r.entries), (std::vector<int>{1, 2, 3, 4}));
    EXPECT_EQ(r.entries[0].to().user(), "carol");
    EXPECT_EQ(r.entries[0].user_offset(), 1) << "the bob-carol conversation";
    const char* payloads[] = {"one", "two", "three"};
    const char* senders[] = {"alice", "alice", "bob"};
    const char* devices[] = {"a1", "a1", "b1"};
    for (int i = 1; i <= 3; ++i) {
      const auto& m = r.entries[i];
      EXPECT_EQ(m.signal_type(), kReceiver) << Describe(m);
      EXPECT_EQ(m.user_offset(), i) << Describe(m);
      EXPECT_EQ(m.to().group(), "g1") << Describe(m);
      EXPECT_TRUE(m.to().user().empty()) << Describe(m);
      EXPECT_EQ(m.from().user(), senders[i - 1]) << Describe(m);
      EXPECT_EQ(m.from().device(), devices[i - 1]) << Describe(m);
      EXPECT_EQ(m.payload(), payloads[i - 1]) << Describe(m);
      EXPECT_EQ(m.signal_request(), kPull) << Describe(m);
      EXPECT_TRUE(m.signal_ack_state().send());
      EXPECT_FALSE(m.signal_ack_state().received());
    }
  }
};

auto ActivityFrom(std::string user, int status) {
  return
      [user = std::move(user), status](const v1::Signal& s) { return s.status() == status && s.from().user() == user; };
}

TEST_F(GroupsTest, OfflineMemberPullsGroupBacklogWithOwnOffsetsAndSharedUserOffsets) {
  auto* admin = Admin();
  ASSERT_TRUE(admin);
  ASSERT_TRUE(admin->CreateGroup("g1", {"alice", "bob", "carol"}));
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  // Second devices, which see the senders' DEVICE copies live.
  auto* a2 = Online("alice", "a2");
  auto* b2 = Online("bob", "b2");
  ASSERT_TRUE(a1 && b1 && a2 && b2);
  // carol (offline) and bob each get one 1:1 entry first, so every member's
  // log offsets differ from the group's user_offsets.
  ASSERT_TRUE(SendAndWaitAck(*b1, NewMessage("pre", "carol", "hello carol")));

  ASSERT_NO_FATAL_FAILURE(SendThreeToTheGroup(*a1, *b1));
  ASSERT_NO_FATAL_FAILURE(ExpectAlicesOtherDeviceGotAllThree(*a2));
  ASSERT_NO_FATAL_FAILURE(ExpectBobsOtherDeviceGotHisLog(*b2));
  ASSERT_NO_FATAL_FAILURE(ExpectSendingDevicesGotOnlyOthers(*a1, *b1));
  ExpectCarolPullsTheBacklog();
}

TEST_F(GroupsTest, MemberReceiptsReachSenderWithGroupCounts) {
  auto* admin = Admin();
  ASSERT_TRUE(admin);
  ASSERT_TRUE(admin->CreateGroup("g1", {"alice", "bob", "carol"}));
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  auto* c1 = Online("carol", "c1");
  ASSERT_TRUE(a1 && b1 && c1);
  // A note to self first: alice's offset of g-1 is 2, the members' 1.
  ASSERT_TRUE(SendAndWaitAck(*a1, NewMessage("self", "alice", "note")));
  auto ack = SendAndWaitAck(*a1, GroupMessage("g-1", "g1", "hi all"));
  ASSERT_TRUE(ack) << a1->Pending();
  ASSERT_EQ(ack->signal_offset(), 2);
  for (auto* d : {b1, c1}) {
    auto copy = d->NextInbox(WithId("g-1"));
    ASSERT_TRUE(copy) << d->Pending();
    ASSERT_EQ(copy->signal_offset(), 1);
  }

  struct Step {
    CourierDevice* reader;
    bool received, read;
    bool want_received, want_read;  // the member's own copy state
    uint32_t received_count, read_count;
  };
  const Step steps[] = {
      {b1, true, false, true, false, 1, 0},
      {c1, false, true, true, true, 2, 1},
      {b1, false, true, true, true, 2, 2},
  };
  for (const auto& st : steps) {
    SCOPED_TRACE(st.reader->user());
    ASSERT_TRUE(st.reader->Signal(ReceiptFor("g-1", 1, st.received, st.read)));
    auto notice = a1->NextEvent(NoticeFor("g-1", kReceiver));
    ASSERT_TRUE(notice) << a1->Pending();
    EXPECT_EQ(notice->type(), kResponse);
    EXPECT_EQ(notice->from().user(), st.reader->user()) << Describe(*notice);
    EXPECT_EQ(notice->from().device(), st.reader->device()) << Describe(*notice);
    EXPECT_EQ(notice->signal_offset(), 2) << "the sender's own offset; " << Describe(*notice);
    EXPECT_EQ(notice->user_offset(), 1) << Describe(*notice);
    EXPECT_EQ(notice->signal_ack_state().received(), st.want_received) << Describe(*notice);
    EXPECT_EQ(notice->signal_ack_state().read(), st.want_read) << Describe(*notice);
    EXPECT_EQ(notice->recipients(), 2u) << Describe(*notice);
    EXPECT_EQ(notice->received_count(), st.received_count) << Describe(*notice);
    EXPECT_EQ(notice->read_count(), st.read_count) << Describe(*notice);
    // The reader's own devices get the DEVICE notice with the reader's offset.
    auto mine = st.reader->NextEvent(NoticeFor("g-1", kDevice));
    ASSERT_TRUE(mine) << st.reader->Pending();
    EXPECT_EQ(mine->signal_offset(), 1) << Describe(*mine);
  }
  // Once every member has read it, the sender's stored copy says so.
  auto r = Pull(*a1, 1);
  ASSERT_EQ(r.entries.size(), 1u) << a1->Pending();
  EXPECT_EQ(r.entries[0].id(), "g-1");
  EXPECT_TRUE(r.entries[0].signal_ack_state().received()) << Describe(r.entries[0]);
  EXPECT_TRUE(r.entries[0].signal_ack_state().read()) << Describe(r.entries[0]);
}

TEST_F(GroupsTest, NonMemberAndUnknownGroupAreRejected) {
  auto* admin = Admin();
  ASSERT_TRUE(admin);
  ASSERT_TRUE(admin->CreateGroup("g1", {"alice", "bob"}));
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  auto* d1 = Online("dave", "d1");
  ASSERT_TRUE(a1 && b1 && d1);

  ASSERT_TRUE(d1->Send(GroupMessage("x-1", "g1", "let me in")));
  EXPECT_TRUE(GotPermanentError(*d1, "x-1", "not_member"));
  ASSERT_TRUE(d1->Send(GroupMessage("x-2", "nosuch", "hello?")));
  EXPECT_TRUE(GotPermanentError(*d1, "x-2", "unknown_group"));
  v1::Signal typing = GroupActivity("g1", kTyping);
  typing.set_id("x-3");
  ASSERT_TRUE(d1->Signal(typing));
  EXPECT_TRUE(GotPermanentError(*d1, "x-3", "not_member"));
  v1::Message both = GroupMessage("x-4", "g1", "both");
  both.mutable_to()->set_user("bob");
  ASSERT_TRUE(d1->Send(both));
  EXPECT_TRUE(GotPermanentError(*d1, "x-4", "invalid_recipient"));

  // Nothing of dave's reached the group: a member's message is bob's first
  // entry, and no activity came before it.
  ASSERT_TRUE(SendAndWaitAck(*a1, GroupMessage("ok", "g1", "members only")));
  auto copy = b1->NextInbox();
  ASSERT_TRUE(copy) << b1->Pending();
  EXPECT_EQ(copy->id(), "ok");
  EXPECT_EQ(copy->signal_offset(), 1);
  EXPECT_EQ(copy->user_offset(), 1) << "the group's first message";
  for (const auto& e : b1->DrainEvents()) ADD_FAILURE() << "unexpected event: " << Describe(e);
  // dave's log is empty.
  auto r = Pull(*d1, 0);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(r.response->signal_offset(), 0);
  EXPECT_TRUE(r.entries.empty());
}

TEST_F(GroupsTest, MembershipChangesApplyToLaterMessagesOnly) {
  auto* admin = Admin();
  ASSERT_TRUE(admin);
  ASSERT_TRUE(admin->CreateGroup("g1", {"alice", "bob", "carol"}));
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  auto* c1 = Online("carol", "c1");
  ASSERT_TRUE(a1 && b1 && c1);

  ASSERT_TRUE(SendAndWaitAck(*a1, GroupMessage("m1", "g1", "before")));
  auto got = c1->NextInbox(WithId("m1"));
  ASSERT_TRUE(got) << c1->Pending();
  EXPECT_EQ(got->signal_offset(), 1);

  // carol leaves: m2 goes to bob only.
  ASSERT_TRUE(admin->RemoveMember("g1", "carol"));
  auto ack2 = SendAndWaitAck(*a1, GroupMessage("m2", "g1", "after carol left"));
  ASSERT_TRUE(ack2) << a1->Pending();
  EXPECT_EQ(ack2->user_offset(), 2);
  auto b_m2 = b1->NextInbox(WithId("m2"));
  ASSERT_TRUE(b_m2) << b1->Pending();
  EXPECT_EQ(b_m2->signal_offset(), 2);
  // Sentinel for carol: a 1:1 message bob sends after m2 was committed.
  ASSERT_TRUE(SendAndWaitAck(*b1, NewMessage("after", "carol", "you left")));
  auto sentinel = c1->NextInbox(WithId("after"));
  ASSERT_TRUE(sentinel) << c1->Pending();
  EXPECT_EQ(sentinel->signal_offset(), 2) << "carol's log has no entry for m2";
  for (const auto& m : c1->DrainInbox()) ADD_FAILURE() << "carol got " << Describe(m);
  auto r = Pull(*c1, 0);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(Ids(r.entries), (std::vector<std::string>{"m1", "after"}));
  EXPECT_EQ(r.response->signal_offset(), 2);
  // And she may no longer send to the group.
  ASSERT_TRUE(c1->Send(GroupMessage("c-1", "g1", "hello?")));
  EXPECT_TRUE(GotPermanentError(*c1, "c-1", "not_member"));

  // dave joins (offline): he gets m3, not the earlier messages.
  ASSERT_TRUE(admin->AddMember("g1", "dave"));
  auto ack3 = SendAndWaitAck(*a1, GroupMessage("m3", "g1", "welcome dave"));
  ASSERT_TRUE(ack3) << a1->Pending();
  EXPECT_EQ(ack3->user_offset(), 3);
  auto b_m3 = b1->NextInbox(WithId("m3"));
  ASSERT_TRUE(b_m3) << b1->Pending();
  EXPECT_EQ(b_m3->signal_offset(), 4) << "bob: m1, m2, his DEVICE copy of 'after', m3";
  auto* d1 = Online("dave", "d1");
  ASSERT_TRUE(d1);
  r = Pull(*d1, 0);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(r.response->signal_offset(), 1);
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].id(), "m3");
  EXPECT_EQ(r.entries[0].signal_offset(), 1);
  EXPECT_EQ(r.entries[0].user_offset(), 3);
  // m3 went to two members (bob, dave): dave's receipt says so.
  ASSERT_TRUE(d1->Signal(ReceiptFor("m3", 1, true, false)));
  auto notice = a1->NextEvent(NoticeFor("m3", kReceiver));
  ASSERT_TRUE(notice) << a1->Pending();
  EXPECT_EQ(notice->from().user(), "dave");
  EXPECT_EQ(notice->recipients(), 2u) << Describe(*notice);
  EXPECT_EQ(notice->received_count(), 1u) << Describe(*notice);
}

TEST_F(GroupsTest, GroupTypingReachesOnlineMembersOnly) {
  auto* admin = Admin();
  ASSERT_TRUE(admin);
  ASSERT_TRUE(admin->CreateGroup("g1", {"alice", "bob", "carol"}));
  auto* a1 = Online("alice", "a1");
  auto* b1 = Online("bob", "b1");
  auto* b2 = Online("bob", "b2");
  ASSERT_TRUE(a1 && b1 && b2);

  // carol is offline while alice types.
  ASSERT_TRUE(a1->Signal(GroupActivity("g1", kTyping)));
  for (auto* d : {b1, b2}) {
    auto s = d->NextEvent(ActivityFrom("alice", kTyping));
    ASSERT_TRUE(s) << d->Pending();
    EXPECT_EQ(s->type(), kRequest) << Describe(*s);
    EXPECT_EQ(s->from().device(), "a1");
    EXPECT_EQ(s->to().group(), "g1") << Describe(*s);
    EXPECT_EQ(s->signal_offset(), 0);
    EXPECT_EQ(s->user_offset(), 0);
    EXPECT_FALSE(s->has_error());
  }
  // bob types back; alice gets it, and nothing of her own typing before it.
  ASSERT_TRUE(b1->Signal(GroupActivity("g1", kTyping)));
  ASSERT_TRUE(a1->NextEvent(ActivityFrom("bob", kTyping))) << a1->Pending();
  for (const auto& e : a1->DrainEvents()) ADD_FAILURE() << "alice got " << Describe(e);

  // carol comes online: the earlier typing is not replayed; the next
  // activity (recording, status 2) is the first she gets.
  auto* c1 = Online("carol", "c1");
  ASSERT_TRUE(c1);
  ASSERT_TRUE(a1->Signal(GroupActivity("g1", 2)));
  auto s = c1->NextEvent(ActivityFrom("alice", 2));
  ASSERT_TRUE(s) << c1->Pending();
  EXPECT_EQ(s->to().group(), "g1");
  for (const auto& e : c1->DrainEvents()) ADD_FAILURE() << "carol got " << Describe(e);
  // Activity is never stored: carol's log is empty.
  auto r = Pull(*c1, 0);
  ASSERT_TRUE(r.response);
  EXPECT_EQ(r.response->signal_offset(), 0);
  EXPECT_TRUE(r.entries.empty());
}

}  // namespace
}  // namespace courier::it
