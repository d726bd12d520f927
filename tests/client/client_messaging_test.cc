// The client library against a real mosquitto with the Courier plugin
// (support/client_fixture.h: one broker per test): messages, receipts and
// activity between users and in a group, and an entry that expires.
#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "courier/client.h"
#include "support/broker.h"
#include "support/child.h"
#include "support/client_fixture.h"

#ifndef COURIER_CLI_PATH
#error "COURIER_CLI_PATH must be defined by the build"
#endif

namespace courier::client_test {
namespace {

TEST_F(ClientTest, SendReceiveReceiptsAndActivity) {
  Recorder ra, rb;
  Client alice(Opts("alice", "alice-phone"), ra.handlers());
  Client bob(Opts("bob", "bob-phone"), rb.handlers());
  alice.start();
  bob.start();
  ASSERT_TRUE(ra.WaitSynced());
  ASSERT_TRUE(rb.WaitSynced());

  auto f = alice.send("bob", "hello bob");
  const client::SendResult r = Ready(f);
  ASSERT_TRUE(r.ok) << r.error_code;
  EXPECT_EQ(r.offset, 1);
  EXPECT_EQ(r.user_offset, 1);
  EXPECT_EQ(r.attempts, 1);

  ASSERT_TRUE(rb.WaitMessages(1));
  const client::Message m = rb.Get(rb.messages)[0];
  EXPECT_EQ(m.id, r.id);
  EXPECT_EQ(m.offset, 1);
  EXPECT_EQ(m.kind, client::Kind::kReceiver);
  EXPECT_EQ(m.from.user, "alice");
  EXPECT_EQ(m.from.device, "alice-phone");
  EXPECT_EQ(m.payload, "hello bob");
  EXPECT_FALSE(m.pulled);
  // alice's own copy reaches her handler too: the server does not echo it
  // to the sending device, so the library builds it from the ack.
  ASSERT_TRUE(ra.WaitMessages(1));
  const client::Message own = ra.Get(ra.messages)[0];
  EXPECT_EQ(own.kind, client::Kind::kDevice);
  EXPECT_EQ(own.id, r.id);
  EXPECT_EQ(own.offset, 1);
  EXPECT_EQ(own.user_offset, 1);
  EXPECT_EQ(own.from.user, "alice");
  EXPECT_EQ(own.from.device, "alice-phone");
  EXPECT_EQ(own.to.user, "bob");
  EXPECT_EQ(own.payload, "hello bob");
  EXPECT_EQ(own.server_timestamp, r.server_timestamp);
  EXPECT_EQ(own.server_timestamp, m.server_timestamp);
  EXPECT_TRUE(own.state.sent);
  EXPECT_FALSE(own.pulled);

  // Ticks: delivered, then read, as RECEIVER receipts to alice.
  auto received = bob.markReceived(1);
  EXPECT_TRUE(Ready(received));
  ASSERT_TRUE(ra.WaitFor([&] {
    return std::any_of(ra.receipts.begin(), ra.receipts.end(), [&](const client::Receipt& x) {
      return x.kind == client::Kind::kReceiver && x.id == r.id && x.state.received && !x.state.read &&
             x.from.user == "bob";
    });
  }));
  auto read = bob.markRead(1);
  EXPECT_TRUE(Ready(read));
  ASSERT_TRUE(ra.WaitFor([&] {
    return std::any_of(ra.receipts.begin(), ra.receipts.end(), [&](const client::Receipt& x) {
      return x.kind == client::Kind::kReceiver && x.id == r.id && x.state.read;
    });
  }));
  // bob's devices learn it too.
  ASSERT_TRUE(rb.WaitFor([&] {
    return std::any_of(rb.receipts.begin(), rb.receipts.end(), [&](const client::Receipt& x) {
      return x.kind == client::Kind::kDevice && x.offset == 1 && x.state.read;
    });
  }));

  auto typing = alice.setActivity("bob", client::Status::kTyping);
  EXPECT_TRUE(Ready(typing));
  ASSERT_TRUE(rb.WaitFor([&] { return !rb.activities.empty(); }));
  const client::Activity a = rb.Get(rb.activities)[0];
  EXPECT_EQ(a.from.user, "alice");
  EXPECT_EQ(a.status, client::Status::kTyping);
}

// A conversation seen from one device of each side: every entry of alice's
// log reaches her handler once and in order, her own sends without a pull
// (the ack fills the offset that the server does not echo).
TEST_F(ClientTest, OwnSendsAndRepliesArriveInOrderWithoutGapPulls) {
  Recorder ra, rb;
  Client alice(Opts("alice", "alice-phone"), ra.handlers());
  Client bob(Opts("bob", "bob-phone"), rb.handlers());
  alice.start();
  bob.start();
  ASSERT_TRUE(ra.WaitSynced());
  ASSERT_TRUE(rb.WaitSynced());
  for (int i = 0; i < 5; ++i) {
    auto fa = alice.send("bob", "a" + std::to_string(i));
    ASSERT_TRUE(Ready(fa).ok);
    auto fb = bob.send("alice", "b" + std::to_string(i));
    ASSERT_TRUE(Ready(fb).ok);
  }
  ASSERT_TRUE(ra.WaitMessages(10));
  // A gap pull, had there been one, answers within this on loopback.
  std::this_thread::sleep_for(500ms);
  const auto got = ra.Get(ra.messages);
  ASSERT_EQ(got.size(), 10u);
  EXPECT_EQ(Offsets(got), Range(1, 10));
  for (int i = 0; i < 10; ++i) {
    const bool mine = i % 2 == 0;
    EXPECT_EQ(got[i].kind, mine ? client::Kind::kDevice : client::Kind::kReceiver) << i;
    EXPECT_EQ(got[i].payload, (mine ? "a" : "b") + std::to_string(i / 2)) << i;
    EXPECT_EQ(got[i].user_offset, i + 1) << i;
    EXPECT_FALSE(got[i].pulled) << "offset " << got[i].offset << " came from a gap pull";
  }
  EXPECT_EQ(ra.Get(ra.synced).size(), 1u) << "only the sync on connect";
  EXPECT_EQ(alice.cursor(), 10);
}

TEST_F(ClientTest, ExpiredEntryIsAHoleTheClientSkips) {
  Recorder ra;
  Client alice(Opts("alice", "alice-phone"), ra.handlers());
  alice.start();
  client::SendOptions short_lived;
  short_lived.expiry = 1;
  auto f1 = alice.send("bob", "gone before bob comes", short_lived);
  ASSERT_TRUE(Ready(f1).ok);
  // The sweep tells alice; bob's offset 1 stays taken.
  ASSERT_TRUE(ra.WaitFor([&] {
    return std::any_of(ra.errors.begin(), ra.errors.end(),
                       [](const client::ServerError& e) { return e.code == "expired"; });
  }));
  const auto expired = ra.Get(ra.errors)[0];
  EXPECT_EQ(expired.offset, 1);
  EXPECT_EQ(expired.from.user, "bob");
  auto f2 = alice.send("bob", "still here");
  ASSERT_TRUE(Ready(f2).ok);

  Recorder rb;
  client::Options ob = Opts("bob", "bob-phone");
  ob.start_from = client::StartFrom::kBeginning;
  Client bob(ob, rb.handlers());
  bob.start();
  ASSERT_TRUE(rb.WaitSynced());
  const auto got = rb.Get(rb.messages);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].offset, 2);
  EXPECT_EQ(got[0].payload, "still here");
  EXPECT_EQ(bob.cursor(), 2);
}

class GroupClientTest : public ClientTest {
 protected:
  it::BrokerOptions BrokerOpts() const override {
    it::BrokerOptions b;
    b.plugin_opts = {{"admin_users", "admin"}};
    return b;
  }
  RunResult Admin(const std::string& user, std::vector<std::string> args) {
    std::vector<std::string> argv = {
        COURIER_CLI_PATH, "admin", "-h", "127.0.0.1", "-p", std::to_string(broker().port()), "-u", user};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  }
};

TEST_F(GroupClientTest, GroupMessageReachesEveryMemberWithReceiptCounts) {
  // The group, through `courier admin` ($CONTROL/courier/v1).
  const RunResult made = Admin("admin", {"create-group", "family", "alice", "bob", "carol"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  EXPECT_EQ(made.out, "");
  const RunResult listed = Admin("admin", {"list-groups"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(listed.out, "{\"groups\":[\"family\"]}\n");
  const RunResult group = Admin("admin", {"get-group", "family"});
  ASSERT_EQ(group.exit_code, 0) << group.err;
  EXPECT_NE(group.out.find("\"members\":[\"alice\",\"bob\",\"carol\"]"), std::string::npos) << group.out;
  const RunResult denied = Admin("alice", {"list-groups"});
  EXPECT_EQ(denied.exit_code, 3) << denied.out << denied.err;
  const RunResult missing = Admin("admin", {"get-group", "nope"});
  EXPECT_EQ(missing.exit_code, 3) << missing.out << missing.err;

  Recorder ra, rb, rc;
  Client alice(Opts("alice", "alice-phone"), ra.handlers());
  Client bob(Opts("bob", "bob-phone"), rb.handlers());
  Client carol(Opts("carol", "carol-phone"), rc.handlers());
  for (Client* c : {&alice, &bob, &carol}) c->start();
  ASSERT_TRUE(ra.WaitSynced() && rb.WaitSynced() && rc.WaitSynced());

  auto f = alice.sendToGroup("family", "hello family");
  const auto r = Ready(f);
  ASSERT_TRUE(r.ok) << r.error_code << ": " << r.error_detail;
  EXPECT_EQ(r.user_offset, 1);
  for (Recorder* rec : {&rb, &rc}) {
    ASSERT_TRUE(rec->WaitMessages(1));
    const auto m = rec->Get(rec->messages)[0];
    EXPECT_EQ(m.kind, client::Kind::kReceiver);
    EXPECT_EQ(m.to.group, "family");
    EXPECT_EQ(m.from.user, "alice");
    EXPECT_EQ(m.payload, "hello family");
  }
  auto read = bob.markRead(rb.Get(rb.messages)[0].offset);
  EXPECT_TRUE(Ready(read));
  ASSERT_TRUE(ra.WaitFor([&] {
    return std::any_of(ra.receipts.begin(), ra.receipts.end(), [&](const client::Receipt& x) {
      return x.kind == client::Kind::kReceiver && x.id == r.id && x.from.user == "bob" && x.state.read;
    });
  }));
  for (const auto& x : ra.Get(ra.receipts)) {
    if (x.kind != client::Kind::kReceiver || x.id != r.id) continue;
    EXPECT_EQ(x.recipients, 2u);
    EXPECT_EQ(x.read_count, 1u);
  }

  auto activity = carol.setGroupActivity("family", client::Status::kTyping);
  EXPECT_TRUE(Ready(activity));
  ASSERT_TRUE(rb.WaitFor([&] { return !rb.activities.empty(); }));
  EXPECT_EQ(rb.Get(rb.activities)[0].to.group, "family");

  Client dave(Opts("dave", "dave-phone"));
  dave.start();
  auto outsider = dave.sendToGroup("family", "let me in");
  EXPECT_EQ(Ready(outsider).error_code, "not_member");
  auto nowhere = alice.sendToGroup("nope", "x");
  EXPECT_EQ(Ready(nowhere).error_code, "unknown_group");
}

}  // namespace
}  // namespace courier::client_test
