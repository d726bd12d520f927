// The engine-neutral rules of storage/rules, without an engine. The engines'
// own behaviour over them is in tests/store (both engines, one suite).
#include <gtest/gtest.h>

#include "append_rules.h"
#include "body_rules.h"
#include "group_rules.h"
#include "push_rules.h"
#include "receipt_rules.h"

namespace courier::storage {
namespace {

using courier::store::v1::Body;
using courier::store::v1::Group;
using courier::v1::Message;

AppendRequest Append(const std::string& sender, std::vector<std::string> receivers) {
  AppendRequest r;
  r.sender = sender;
  r.receivers = std::move(receivers);
  r.conversation = "conv";
  r.message.set_id("m1");
  r.message.mutable_from()->set_user(sender);
  r.message.mutable_to()->set_user("bob");
  return r;
}

TEST(AppendRules, NamesNeedSenderIdAndConversationThatFit) {
  AppendRequest r = Append("alice", {"bob"});
  EXPECT_TRUE(CheckAppendNames(r, 511).ok());
  r.sender = std::string("al\0ce", 5);
  EXPECT_EQ(CheckAppendNames(r, 511).code(), Status::Code::kInvalid);
  r = Append("alice", {"bob"});
  r.message.set_id(std::string(506, 'x'));  // "alice" NUL id: 512 bytes
  EXPECT_EQ(CheckAppendNames(r, 511).code(), Status::Code::kInvalid);
  r.message.set_id(std::string(505, 'x'));
  EXPECT_TRUE(CheckAppendNames(r, 511).ok());
}

TEST(AppendRules, ReceiversAreCheckedThenTheirQuota) {
  AppendRequest r = Append("alice", {"bob", "carol"});
  auto none = [](const std::string&) { return 0; };
  EXPECT_TRUE(CheckReceivers(r, r.receivers, 511, none).ok());
  EXPECT_EQ(CheckReceivers(r, {"alice"}, 511, none).code(), Status::Code::kInvalid);  // the sender
  EXPECT_EQ(CheckReceivers(r, {""}, 511, none).code(), Status::Code::kInvalid);
  // An expiring message also needs the receiver's expiry key to fit.
  const std::string long_name(494, 'u');  // an expiry key of 18 + 494 = 512 bytes
  EXPECT_TRUE(CheckReceivers(r, {long_name}, 511, none).ok());
  r.expires_ms = 1;
  EXPECT_EQ(CheckReceivers(r, {long_name}, 511, none).code(), Status::Code::kInvalid);
  r.expires_ms = 0;
  r.max_undelivered = 3;
  auto carol_full = [](const std::string& u) { return u == "carol" ? 3 : 2; };
  Status s = CheckReceivers(r, r.receivers, 511, carol_full);
  EXPECT_EQ(s.code(), Status::Code::kLimit);
  EXPECT_NE(s.message().find("carol has 3"), std::string::npos) << s.message();
}

TEST(AppendRules, CursorAndReplacedKeys) {
  EXPECT_TRUE(CursorNamesFit("bob", std::string(507, 'd'), 511));
  EXPECT_FALSE(CursorNamesFit("bob", std::string(508, 'd'), 511));
  AppendRequest r = Append("alice", {"bob"});
  r.message.set_replaces(std::string(505, 'x'));
  EXPECT_TRUE(ReplacedKeyFits(r, 511));
  r.message.set_replaces(std::string(506, 'x'));
  EXPECT_FALSE(ReplacedKeyFits(r, 511));
}

TEST(BodyRules, NewBodyCountsCopiesAndGroupRecipients) {
  AppendRequest r = Append("alice", {"bob"});
  r.message.set_signal_offset(9);
  Body one = NewBody(r, 4, 7, 1);
  EXPECT_EQ(one.message().user_offset(), 4);
  EXPECT_EQ(one.message().signal_offset(), 0);
  EXPECT_EQ(one.sender_offset(), 7);
  EXPECT_EQ(one.copies(), 2u);
  EXPECT_EQ(one.recipients(), 0u);
  EXPECT_TRUE(one.sender().empty());  // from.user is the sender
  EXPECT_EQ(SenderOf(one), "alice");
  r.group = "team";
  r.sender = "relay";  // a sender other than from.user is kept
  Body group = NewBody(r, 1, 1, 3);
  EXPECT_EQ(group.recipients(), 3u);
  EXPECT_EQ(group.copies(), 4u);
  EXPECT_EQ(SenderOf(group), "relay");
}

TEST(BodyRules, CopyFlagsOnlyAdd) {
  Message m;
  m.mutable_signal_ack_state()->set_received(true);
  Message out = MessageOfCopy(m, CopyFlags{.offset = 5, .device = false, .received = false, .read = true});
  EXPECT_EQ(out.signal_offset(), 5);
  EXPECT_EQ(out.signal_type(), courier::v1::SIGNAL_TYPE_RECEIVER);
  EXPECT_TRUE(out.signal_ack_state().received());
  EXPECT_TRUE(out.signal_ack_state().read());
  EXPECT_EQ(MessageOfCopy(m, CopyFlags{.device = true}).signal_type(), courier::v1::SIGNAL_TYPE_DEVICE);
}

TEST(BodyRules, OriginalRefusalsAndReplacement) {
  AppendRequest edit = Append("alice", {"bob"});
  edit.replace_not_before_ms = 100;
  Message orig = edit.message;
  orig.set_server_timestamp(100);
  EXPECT_EQ(CheckOriginal(orig, edit), ReplaceRefusal::kNone);
  orig.set_server_timestamp(99);
  EXPECT_EQ(CheckOriginal(orig, edit), ReplaceRefusal::kWindowClosed);
  orig.set_server_timestamp(100);
  orig.mutable_to()->set_user("carol");
  EXPECT_EQ(CheckOriginal(orig, edit), ReplaceRefusal::kRecipientChanged);
  orig.mutable_to()->set_user("bob");
  orig.set_recalled(true);
  EXPECT_EQ(CheckOriginal(orig, edit), ReplaceRefusal::kAlreadyRecalled);
  orig.set_recalled(false);
  orig.set_replaces("m0");  // an edit is not an original
  EXPECT_EQ(CheckOriginal(orig, edit), ReplaceRefusal::kUnknownOriginal);

  Message target;
  target.set_payload("old");
  Message m;
  m.set_payload("new");
  ReplaceContent(&target, m);
  EXPECT_EQ(target.payload(), "new");
  EXPECT_TRUE(target.edited());
  m.set_recall(true);
  ReplaceContent(&target, m);
  EXPECT_TRUE(target.payload().empty());
  EXPECT_TRUE(target.recalled());
}

TEST(ReceiptRules, AckChangeSaysWhatIsNew) {
  Message m;
  AckChange c = ApplyAck(&m, true, false);
  EXPECT_TRUE(c.changed && c.newly_received && !c.newly_read);
  c = ApplyAck(&m, true, true);
  EXPECT_TRUE(c.changed && !c.newly_received && c.newly_read);
  c = ApplyAck(&m, true, true);
  EXPECT_FALSE(c.changed || c.newly_received || c.newly_read);
}

TEST(ReceiptRules, OneToOnePeerTakesTheReceiptsFlags) {
  Body body;
  Message peer;
  ReceiptRequest r{.user = "bob", .device = "d", .offset = 1, .received = true, .read = false, .reply = {}};
  ReceiptResult out;
  PeerWrites w = UpdatePeerState(body, &peer, r, AckChange{true, true, false}, &out);
  EXPECT_FALSE(w.body);
  EXPECT_TRUE(w.peer);
  EXPECT_TRUE(peer.signal_ack_state().received());
  EXPECT_EQ(out.recipients, 0u);
}

TEST(ReceiptRules, GroupPeerTakesAFlagOnceEveryMemberHasIt) {
  Body body;
  body.set_recipients(2);
  Message peer;
  ReceiptRequest r{.user = "bob", .device = "d", .offset = 1, .received = true, .read = false, .reply = {}};
  ReceiptResult out;
  PeerWrites w = UpdatePeerState(body, &peer, r, AckChange{true, true, false}, &out);
  EXPECT_TRUE(w.body);
  EXPECT_FALSE(w.peer);
  EXPECT_EQ(out.received_count, 1u);
  w = UpdatePeerState(body, &peer, r, AckChange{true, true, false}, &out);
  EXPECT_TRUE(w.peer);
  EXPECT_TRUE(peer.signal_ack_state().received());
  EXPECT_EQ(out.received_count, 2u);
  EXPECT_EQ(out.recipients, 2u);
  w = UpdatePeerState(body, &peer, r, AckChange{}, &out);  // nothing new
  EXPECT_FALSE(w.body || w.peer);
}

TEST(GroupRules, MembershipAndLimits) {
  AdminOp op;
  op.kind = AdminOp::Kind::kCreateGroup;
  op.members = {"a", "b", "a"};
  op.max_members = 3;
  Group g;
  ASSERT_TRUE(NewGroup(op, &g).ok());
  EXPECT_EQ(g.members_size(), 2);
  op.kind = AdminOp::Kind::kAddMember;
  op.user = "a";
  bool changed = true;
  EXPECT_TRUE(ChangeMembership(op, &g, &changed).ok());
  EXPECT_FALSE(changed);  // already a member
  op.user = "c";
  EXPECT_TRUE(ChangeMembership(op, &g, &changed).ok());
  EXPECT_TRUE(changed);
  op.user = "d";
  EXPECT_EQ(ChangeMembership(op, &g, &changed).code(), Status::Code::kLimit);
  op.kind = AdminOp::Kind::kRemoveMember;
  EXPECT_EQ(ChangeMembership(op, &g, &changed).code(), Status::Code::kNotFound);
  EXPECT_TRUE(CheckMember(&g, "team", "b").ok());
  EXPECT_EQ(CheckMember(&g, "team", "d").code(), Status::Code::kForbidden);
  EXPECT_EQ(CheckMember(nullptr, "team", "b").code(), Status::Code::kNotFound);
  EXPECT_EQ(OtherMembers(g, "b"), (std::vector<std::string>{"a", "c"}));
}

TEST(PushRules, DueKeyRoundTripsAndOddShapesAreRefused) {
  const std::string k = DueKey("bob", "phone", 0x01020304);
  PushKey p;
  ASSERT_TRUE(ParseDueKey(k, &p));
  EXPECT_EQ(p.user, "bob");
  EXPECT_EQ(p.device, "phone");
  EXPECT_EQ(p.offset, 0x01020304);
  EXPECT_FALSE(ParseDueKey("bob", &p));
  EXPECT_FALSE(ParseDueKey(std::string("bob\0phone", 9), &p));
  EXPECT_FALSE(ParseDueKey(std::string("bob\0ph\0ne\0\0\0\0\1", 14), &p));  // NUL in the device
  EXPECT_TRUE(CheckPushNames("bob", "phone", 511).ok());
  EXPECT_EQ(CheckPushNames("bob", "", 511).code(), Status::Code::kInvalid);
  EXPECT_TRUE(CheckPushNames("bob", std::string(502, 'd'), 511).ok());  // a due key of 511 bytes
  EXPECT_EQ(CheckPushNames("bob", std::string(503, 'd'), 511).code(), Status::Code::kInvalid);
}

TEST(PushRules, DueRecordKeepsThePayloadOnlyWhenAsked) {
  Message m;
  m.set_id("m1");
  m.set_payload("hi");
  m.mutable_to()->set_group("team");
  EXPECT_TRUE(DueRecord(m, 3, false).payload().empty());
  auto d = DueRecord(m, 3, true);
  EXPECT_EQ(d.payload(), "hi");
  EXPECT_EQ(d.undelivered(), 3);
  EXPECT_EQ(d.group(), "team");
  PushDue due = DueOf(PushKey{"bob", "phone", 5}, courier::store::v1::PushReg(), d);
  EXPECT_EQ(due.offset, 5);
  EXPECT_EQ(due.id, "m1");
}

}  // namespace
}  // namespace courier::storage
