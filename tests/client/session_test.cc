// The Session (clients/cpp/src/session.h) on paths the conformance traces do
// not cover: broker acknowledgements, the end of a client, timeouts, head
// queries, sync() calls, receipts after a transient error, draining.
#include "session.h"

#include <gtest/gtest.h>

#include <variant>

namespace {

using namespace courier::client;
using namespace courier::client::detail;

constexpr int64_t kT0 = 1700000000000;

SessionConfig Config() {
  SessionConfig c;
  c.user = "alice";
  c.device = "a1";
  c.cursor = 0;
  c.random = [] { return 0.5; };
  return c;
}

template <typename T>
std::vector<T> Only(const std::vector<Action>& actions) {
  std::vector<T> out;
  for (const auto& a : actions) {
    if (const T* v = std::get_if<T>(&a)) out.push_back(*v);
  }
  return out;
}

// Online and synced at head 0; the actions of getting there are dropped.
void Online(Session& s, int64_t now = kT0) {
  s.OnConnected(now);
  s.OnSubscribed(now);
  const auto pulls = Only<PublishAction>(s.TakeActions());
  ASSERT_EQ(pulls.size(), 1u);
  v1::Signal pull;
  ASSERT_TRUE(pull.ParseFromString(pulls[0].bytes));
  v1::Signal resp;
  resp.set_id(pull.id());
  resp.set_type(v1::SIGNAL_KIND_RESPONSE);
  resp.set_signal_request(v1::SIGNAL_REQUEST_PULL);
  resp.set_signal_offset_state(true);
  s.OnPublish(s.topics().device_events, resp.SerializeAsString(), now);
  ASSERT_EQ(Only<SyncedEvent>(s.TakeActions()).size(), 1u);
}

std::string Response(const std::string& id, int32_t head) {
  v1::Signal r;
  r.set_id(id);
  r.set_type(v1::SIGNAL_KIND_RESPONSE);
  r.set_signal_request(v1::SIGNAL_REQUEST_PULL);
  r.set_signal_offset(head);
  r.set_signal_offset_state(true);
  return r.SerializeAsString();
}

TEST(Session, BrokerRefusalEndsTheSend) {
  Session s(Config());
  Online(s);
  SendOptions o;
  o.id = "m1";
  s.Send(7, {.to = {.user = "bob"}, .payload = "hi"}, o, kT0);
  const auto pub = Only<PublishAction>(s.TakeActions());
  ASSERT_EQ(pub.size(), 1u);
  ASSERT_NE(pub[0].token, 0u);
  s.OnPubAck(pub[0].token, PubAck::kRefused, "Not authorized");
  const auto done = Only<SendDone>(s.TakeActions());
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].handle, 7u);
  EXPECT_EQ(done[0].result.error_code, "refused");
  EXPECT_EQ(done[0].result.attempts, 1);
  EXPECT_EQ(s.pending_sends(), 0u);
}

TEST(Session, FinishEndsEveryCommandAndLaterOnes) {
  Session s(Config());
  SendOptions o;
  o.id = "m1";
  s.Send(1, {.to = {.user = "bob"}}, o, kT0);
  s.Mark(2, 5, true, kT0);
  s.QueryHead(3, kT0);
  s.Sync(4, kT0);
  EXPECT_TRUE(s.TakeActions().empty()) << "offline: nothing goes out";
  s.Finish("closed", "the client was closed");
  const auto a = s.TakeActions();
  ASSERT_EQ(Only<SendDone>(a).size(), 1u);
  EXPECT_EQ(Only<SendDone>(a)[0].result.error_code, "closed");
  ASSERT_EQ(Only<MarkDone>(a).size(), 1u);
  EXPECT_FALSE(Only<MarkDone>(a)[0].ok);
  ASSERT_EQ(Only<HeadDone>(a).size(), 1u);
  EXPECT_FALSE(Only<HeadDone>(a)[0].head);
  ASSERT_EQ(Only<SyncDone>(a).size(), 1u);
  EXPECT_FALSE(Only<SyncDone>(a)[0].head);

  o.id = "m2";
  s.Send(5, {.to = {.user = "bob"}}, o, kT0);
  const auto later = Only<SendDone>(s.TakeActions());
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].result.error_code, "closed");
}

TEST(Session, TimeoutWhileOffline) {
  Session s(Config());
  SendOptions o;
  o.id = "m1";
  o.timeout = std::chrono::milliseconds(5000);
  s.Send(1, {.to = {.user = "bob"}}, o, kT0);
  EXPECT_EQ(s.NextDeadline(), kT0 + 5000);
  s.Tick(kT0 + 4999);
  EXPECT_TRUE(s.TakeActions().empty());
  s.Tick(kT0 + 5000);
  const auto done = Only<SendDone>(s.TakeActions());
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].result.error_code, "timeout");
  EXPECT_EQ(done[0].result.error_detail, "not connected in time");
  EXPECT_EQ(done[0].result.attempts, 0);
}

// Arguments the server refuses whatever its configuration end the send at
// once with the server's code, and nothing is published.
TEST(Session, SendWithBadArgumentsEndsAtOnceWithTheServersCode) {
  Session s(Config());
  Online(s);
  SendOptions o;
  o.id = "m1";
  SendOptions high = o;
  high.priority = 16;
  SendOptions transient = o;
  transient.transient = true;
  const std::vector<std::pair<Outgoing, SendOptions>> bad = {
      {{.to = {}}, o},
      {{.to = {.user = "bob", .group = "g"}}, o},
      {{.to = {.user = "a/b"}}, o},
      {{.to = {.group = "g#"}}, o},
      {{.to = {.user = std::string("a\0b", 3)}}, o},
      {{.to = {.user = "bob"}}, high},
      {{.to = {.user = "bob"}, .replaces = "m1"}, o},
      {{.to = {.user = "bob"}, .replaces = "m0"}, transient},
      {{.to = {.user = "bob"}, .recall = true}, o},
      {{.to = {.user = "bob"}, .payload = "x", .replaces = "m0", .recall = true}, o},
  };
  const std::vector<std::string> codes = {
      "missing_recipient", "invalid_recipient", "invalid_recipient", "invalid_recipient", "invalid_recipient",
      "invalid_priority",  "invalid_edit",      "invalid_edit",      "invalid_edit",      "recall_has_content"};
  Handle h = 1;
  for (const auto& [out, opts] : bad) s.Send(h++, out, opts, kT0);
  const auto a = s.TakeActions();
  EXPECT_TRUE(Only<PublishAction>(a).empty());
  const auto done = Only<SendDone>(a);
  ASSERT_EQ(done.size(), codes.size());
  for (size_t i = 0; i < codes.size(); ++i) {
    EXPECT_EQ(done[i].result.error_code, codes[i]) << i;
    EXPECT_EQ(done[i].result.attempts, 0) << i;
  }
  // None of them holds its id: the same id goes out once the arguments are right.
  s.Send(h++, {.to = {.user = "bob"}}, o, kT0);
  EXPECT_EQ(Only<PublishAction>(s.TakeActions()).size(), 1u);
}

TEST(Session, SendWithoutIdOrWithAPendingIdEndsAtOnce) {
  Session s(Config());
  Online(s);
  s.Send(1, {.to = {.user = "bob"}}, SendOptions{}, kT0);
  SendOptions o;
  o.id = "m1";
  s.Send(2, {.to = {.user = "bob"}}, o, kT0);
  s.Send(3, {.to = {.user = "bob"}}, o, kT0);
  const auto a = s.TakeActions();
  EXPECT_EQ(Only<PublishAction>(a).size(), 1u);
  const auto done = Only<SendDone>(a);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].result.error_code, "missing_id");
  EXPECT_EQ(done[1].result.error_code, "id_pending");
  EXPECT_EQ(done[1].handle, 3u);
}

TEST(Session, ReceiptAfterATransientErrorGoesOutAgain) {
  Session s(Config());
  Online(s);
  s.Mark(1, 7, false, kT0);
  auto pub = Only<PublishAction>(s.TakeActions());
  ASSERT_EQ(pub.size(), 1u);
  s.OnPubAck(pub[0].token, PubAck::kAccepted, "");
  const auto done = Only<MarkDone>(s.TakeActions());
  ASSERT_EQ(done.size(), 1u);
  EXPECT_TRUE(done[0].ok);
  EXPECT_TRUE(s.Drained());

  v1::Signal err;
  err.set_id("receipt-7");  // no delivery at offset 7 known: the id names the offset
  err.set_type(v1::SIGNAL_KIND_RESPONSE);
  err.set_error("rate_limited: slow down");
  s.OnPublish(s.topics().device_events, err.SerializeAsString(), kT0 + 10);
  EXPECT_TRUE(s.TakeActions().empty()) << "no error event: it is retried";
  EXPECT_FALSE(s.Drained());
  EXPECT_EQ(s.NextDeadline(), kT0 + 10 + 1000);
  s.Tick(kT0 + 1010);
  pub = Only<PublishAction>(s.TakeActions());
  ASSERT_EQ(pub.size(), 1u);
  v1::Signal again;
  ASSERT_TRUE(again.ParseFromString(pub[0].bytes));
  EXPECT_EQ(again.signal_offset(), 7);
  EXPECT_EQ(again.id(), "receipt-7");
}

TEST(Session, QueryHeadResolvesWithTheHead) {
  Session s(Config());
  s.QueryHead(10, kT0);
  EXPECT_TRUE(s.TakeActions().empty()) << "offline: waits for the connection";
  s.OnConnected(kT0);
  s.OnSubscribed(kT0);
  const auto pub = Only<PublishAction>(s.TakeActions());
  ASSERT_EQ(pub.size(), 2u) << "the query, then the sync's pull";
  v1::Signal q;
  ASSERT_TRUE(q.ParseFromString(pub[0].bytes));
  EXPECT_EQ(q.signal_request(), v1::SIGNAL_REQUEST_PUSH);
  s.OnPublish(s.topics().device_events, Response(q.id(), 12), kT0);
  const auto done = Only<HeadDone>(s.TakeActions());
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].handle, 10u);
  EXPECT_EQ(done[0].head, 12);
}

TEST(Session, SyncDuringARunningPullStartsItsOwnAfterIt) {
  Session s(Config());
  s.OnConnected(kT0);
  s.OnSubscribed(kT0);
  auto pub = Only<PublishAction>(s.TakeActions());
  ASSERT_EQ(pub.size(), 1u);
  v1::Signal p1;
  ASSERT_TRUE(p1.ParseFromString(pub[0].bytes));
  s.Sync(5, kT0);
  EXPECT_TRUE(s.TakeActions().empty()) << "waits for the running pull";
  s.OnPublish(s.topics().device_events, Response(p1.id(), 0), kT0);
  auto a = s.TakeActions();
  EXPECT_EQ(Only<SyncedEvent>(a).size(), 1u);
  EXPECT_TRUE(Only<SyncDone>(a).empty());
  pub = Only<PublishAction>(a);
  ASSERT_EQ(pub.size(), 1u) << "a pull of its own";
  v1::Signal p2;
  ASSERT_TRUE(p2.ParseFromString(pub[0].bytes));
  s.OnPublish(s.topics().device_events, Response(p2.id(), 0), kT0);
  const auto done = Only<SyncDone>(s.TakeActions());
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].head, 0);
}

TEST(Session, ActivityEndsFalseWhenTheConnectionDropsFirst) {
  Session s(Config());
  s.SetActivity(1, {.user = "bob"}, Status::kTyping, kT0);
  auto done = Only<ActivityDone>(s.TakeActions());
  ASSERT_EQ(done.size(), 1u);
  EXPECT_FALSE(done[0].ok) << "offline: not queued";
  Online(s);
  s.SetActivity(2, {.user = "bob"}, Status::kTyping, kT0);
  ASSERT_EQ(Only<PublishAction>(s.TakeActions()).size(), 1u);
  s.OnConnectionLost("test", kT0);
  done = Only<ActivityDone>(s.TakeActions());
  ASSERT_EQ(done.size(), 1u);
  EXPECT_FALSE(done[0].ok);
}

TEST(Session, TransientSendQueuedOfflineWaitsForAConnection) {
  Session s(Config());
  SendOptions o;
  o.id = "t1";
  o.transient = true;
  s.Send(1, {.to = {.user = "bob"}}, o, kT0);
  s.OnConnected(kT0);
  s.OnConnectionLost("no SUBACK", kT0);  // never online: never published
  EXPECT_TRUE(Only<SendDone>(s.TakeActions()).empty());
  s.OnConnected(kT0);
  s.OnSubscribed(kT0);
  const auto pub = Only<PublishAction>(s.TakeActions());
  ASSERT_EQ(pub.size(), 2u);
  EXPECT_EQ(pub[0].topic, s.topics().send);
}

TEST(Session, DrainingRepublishesReceiptsOnly) {
  Session s(Config());
  Online(s);
  SendOptions o;
  o.id = "m1";
  s.Send(1, {.to = {.user = "bob"}}, o, kT0);
  s.Mark(2, 3, false, kT0);
  auto pub = Only<PublishAction>(s.TakeActions());
  ASSERT_EQ(pub.size(), 2u);
  s.OnPublishFailed(pub[1].token);  // the receipt did not reach the connection
  s.SetDraining();
  EXPECT_EQ(s.NextDeadline(), kT0) << "the receipt is due; the send's retry is not";
  s.Tick(kT0 + 60000);
  pub = Only<PublishAction>(s.TakeActions());
  ASSERT_EQ(pub.size(), 1u);
  EXPECT_EQ(pub[0].topic, s.topics().signal);
  EXPECT_FALSE(s.Drained());
  s.OnPubAck(pub[0].token, PubAck::kAccepted, "");
  EXPECT_TRUE(s.Drained());
}

TEST(Session, HeadBelowTheCursorResetsItWithALocalError) {
  SessionConfig c = Config();
  c.cursor = 9;
  Session s(c);
  s.OnConnected(kT0);
  s.OnSubscribed(kT0);
  const auto pub = Only<PublishAction>(s.TakeActions());
  v1::Signal p;
  ASSERT_TRUE(p.ParseFromString(pub.at(0).bytes));
  s.OnPublish(s.topics().device_events, Response(p.id(), 4), kT0);
  const auto a = s.TakeActions();
  const auto errs = Only<ServerError>(a);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].code, "cursor_ahead");
  EXPECT_TRUE(errs[0].local);
  const auto moved = Only<CursorMoved>(a);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].cursor, 4);
}

}  // namespace
