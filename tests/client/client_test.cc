// The client library against a real mosquitto with the Courier plugin
// (tests/integration/support: one broker per test, free port, own data
// directory, ended by pid).
#include <sys/stat.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "courier/client.h"
#include "support/broker.h"
#include "support/client_fixture.h"
#include "proc/loopback.h"
#include "support/child.h"

#ifndef COURIER_CLI_PATH
#error "COURIER_CLI_PATH must be defined by the build"
#endif

namespace courier::client_test {
namespace {

using namespace std::chrono_literals;
using client::Client;
using client::ConnectionState;

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

TEST_F(ClientTest, MessageSentWhileBrokerIsDownIsDeliveredOnceAfterRestart) {
  SendWhileBrokerDownArrivesOnce(Opts("alice", "alice-phone"), Opts("bob", "bob-phone"));
}

TEST_F(ClientTest, OfflineClientGetsAllHundredOnceInOrder) {
  TempDir dir;
  client::Options ob = Opts("bob", "bob-phone");
  ob.cursor_file = dir.path() + "/bob.cursor";
  ob.start_from = client::StartFrom::kBeginning;
  ob.pull_limit = 30;  // several pages
  {
    Recorder rb;
    Client bob(ob, rb.handlers());
    bob.start();
    ASSERT_TRUE(rb.WaitSynced());
    bob.close();
  }
  SendFrom("alice", "bob", 100);

  Recorder rb;
  Client bob(ob, rb.handlers());
  bob.start();
  ASSERT_TRUE(rb.WaitFor([&] { return !rb.synced.empty() && rb.messages.size() >= 100; }));
  auto head = bob.queryHead();  // a round trip: anything late would be here by now
  EXPECT_EQ(Ready(head), std::optional<int32_t>(100));
  const auto got = rb.Get(rb.messages);
  ASSERT_EQ(got.size(), 100u);
  EXPECT_EQ(Offsets(got), Range(1, 100));
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(got[i].payload, "m" + std::to_string(i));
    ids.insert(got[i].id);
  }
  EXPECT_EQ(ids.size(), 100u);
  EXPECT_EQ(bob.cursor(), 100);
}

TEST_F(ClientTest, GapInOffsetsIsFilledByAPull) {
  SendFrom("alice", "bob", 3, "old");  // bob's log: 1..3, bob offline

  Recorder rb;
  client::Options ob = Opts("bob", "bob-phone");
  ob.sync_on_connect = false;  // live only: the first live entry shows the gap
  ob.start_after = 0;
  Client bob(ob, rb.handlers());
  bob.start();
  ASSERT_TRUE(rb.WaitOnline());
  auto head = bob.queryHead();
  EXPECT_EQ(Ready(head), std::optional<int32_t>(3));
  EXPECT_TRUE(rb.Get(rb.messages).empty()) << "no sync on connect";

  SendFrom("alice", "bob", 1, "live");  // offset 4, pushed live
  ASSERT_TRUE(rb.WaitMessages(4));
  const auto got = rb.Get(rb.messages);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(Offsets(got), Range(1, 4));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].payload, "old" + std::to_string(i));
    EXPECT_TRUE(got[i].pulled) << "offset " << got[i].offset << " came from the gap pull";
  }
  EXPECT_EQ(got[3].payload, "live0");
  EXPECT_FALSE(got[3].pulled);
  EXPECT_EQ(bob.cursor(), 4);
}

TEST_F(ClientTest, CursorFileSurvivesAClientRestart) {
  TempDir dir;
  const std::string file = dir.path() + "/bob.cursor";
  client::Options ob = Opts("bob", "bob-phone");
  ob.cursor_file = file;
  ob.start_from = client::StartFrom::kBeginning;
  {
    Recorder rb;
    Client bob(ob, rb.handlers());
    bob.start();
    ASSERT_TRUE(rb.WaitSynced());
    SendFrom("alice", "bob", 3);
    ASSERT_TRUE(rb.WaitMessages(3));
    bob.close();
  }
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("cursor=3\n"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("user=bob\n"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("device=bob-phone\n"), std::string::npos) << text.str();
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) { files.push_back(e.path().filename()); }
  EXPECT_EQ(files, std::vector<std::string>{"bob.cursor"}) << "no temporary file left";

  SendFrom("alice", "bob", 2, "later");  // while bob's client is not running
  Recorder rb;
  Client bob(ob, rb.handlers());
  EXPECT_EQ(bob.cursor(), 3) << "loaded before connecting";
  bob.start();
  ASSERT_TRUE(rb.WaitFor([&] { return !rb.synced.empty(); }));
  const auto got = rb.Get(rb.messages);
  EXPECT_EQ(Offsets(got), (std::vector<int32_t>{4, 5})) << "only what it had not delivered";
  EXPECT_EQ(bob.cursor(), 5);

  client::Options other = ob;
  other.device = "bob-laptop";
  EXPECT_THROW(Client c(other), std::invalid_argument) << "the file belongs to bob-phone";
}

TEST_F(ClientTest, PermanentErrorsStopRetries) {
  Recorder ra;
  Client alice(Opts("alice", "alice-phone"), ra.handlers());
  alice.start();
  ASSERT_TRUE(ra.WaitOnline());

  client::SendOptions long_id;
  long_id.id = std::string(200, 'x');
  auto f1 = alice.send("bob", "x", long_id);
  auto f2 = alice.send(std::string(200, 'b'), "x");  // longer than the broker's max_name_bytes
  client::SendOptions dup;
  dup.id = "dup-1";
  auto f3 = alice.send("bob", "one", dup);
  const auto r1 = Ready(f1), r2 = Ready(f2), r3 = Ready(f3);
  EXPECT_FALSE(r1.ok);
  EXPECT_EQ(r1.error_code, "id_too_long");
  EXPECT_EQ(r1.attempts, 1);
  EXPECT_FALSE(r2.ok);
  EXPECT_EQ(r2.error_code, "invalid_recipient");
  EXPECT_FALSE(r2.error_detail.empty());
  EXPECT_EQ(r2.attempts, 1);
  ASSERT_TRUE(r3.ok);
  auto f4 = alice.send("bob", "two", dup);  // same id, other content
  const auto r4 = Ready(f4);
  EXPECT_EQ(r4.error_code, "id_conflict");
  // Not a topic level whatever the broker's limits: refused before publishing.
  auto f5 = alice.send("a+b", "x");
  const auto r5 = Ready(f5);
  EXPECT_EQ(r5.error_code, "invalid_recipient");
  EXPECT_EQ(r5.attempts, 0);
  EXPECT_EQ(r4.attempts, 1);
  EXPECT_EQ(alice.pendingSends(), 0u);

  // Nothing is sent again: give a retry (200 ms here) several chances, then
  // a round trip. A resend would come back as an error for an id nobody
  // waits for, which the client reports through on_error.
  std::this_thread::sleep_for(800ms);
  auto barrier = alice.queryHead();
  EXPECT_EQ(Ready(barrier), std::optional<int32_t>(1));
  EXPECT_TRUE(ra.Get(ra.errors).empty());
}

TEST_F(ClientTest, SendTimesOutWhenNeverAnswered) {
  client::Options o = Opts("alice", "alice-phone");
  o.port = proc::PickFreePort();  // nobody listens there
  Recorder ra;
  Client alice(o, ra.handlers());
  alice.start();
  client::SendOptions so;
  so.timeout = 300ms;
  auto f = alice.send("bob", "x", so);
  const auto r = Ready(f);
  EXPECT_EQ(r.error_code, "timeout");
  EXPECT_EQ(r.attempts, 0);
  EXPECT_TRUE(ra.WaitFor([&] { return ra.Last() == ConnectionState::kOffline; }));
}

TEST_F(ClientTest, SecondClientWithTheSameIdIsReported) {
  // Mosquitto 2.0.11 closes the older connection without a reason code, so
  // the two clients take the id from each other; the clients back off and
  // report it (with Mosquitto >= 2.0.15 the older one fails for good).
  Recorder r1, r2;
  Client first(Opts("alice", "alice-phone"), r1.handlers());
  first.start();
  ASSERT_TRUE(r1.WaitOnline());
  Client second(Opts("alice", "alice-phone"), r2.handlers());
  second.start();
  auto reported = [](Recorder& r) {
    return std::any_of(r.errors.begin(), r.errors.end(),
                       [](const client::ServerError& e) { return e.local && e.code == "unstable_connection"; }) ||
           r.Last() == ConnectionState::kFailed;
  };
  EXPECT_TRUE(r1.WaitFor([&] { return reported(r1); }, 20s));
}

TEST_F(ClientTest, CloseEndsPendingWork) {
  client::Options o = Opts("alice", "alice-phone");
  o.port = proc::PickFreePort();
  Client alice(o);
  alice.start();
  auto f = alice.send("bob", "x");
  auto s = alice.sync();
  alice.close(100ms);
  EXPECT_EQ(Ready(f).error_code, "closed");
  EXPECT_EQ(Ready(s), std::nullopt);
  auto after = alice.send("bob", "y");
  EXPECT_EQ(Ready(after).error_code, "closed");
  auto mark = alice.markRead(1);
  EXPECT_FALSE(Ready(mark));
}

TEST(ClientWithoutBroker, NeverStartedClientEndsItsWorkOnClose) {
  client::Options o;
  o.port = proc::PickFreePort();
  o.user = "alice";
  o.device = "alice-phone";
  client::SendResult from_callback;
  client::SendOptions so;
  so.on_done = [&](const client::SendResult& r) { from_callback = r; };
  std::future<client::SendResult> f;
  {
    Client c(o);
    f = c.send("bob", "never sent", so);
  }  // destroyed without start()
  const auto r = Ready(f);
  EXPECT_EQ(r.error_code, "closed");
  EXPECT_EQ(r.attempts, 0);
  EXPECT_EQ(from_callback.error_code, "closed");
}

TEST(ClientWithoutBroker, RejectsUnusableOptionsAndCursorFiles) {
  client::Options o;
  o.user = "alice";
  o.device = "alice-phone";
  client::Options bad = o;
  bad.user = "a/b";
  EXPECT_THROW(Client c(bad), std::invalid_argument);
  bad = o;
  bad.device = "";
  EXPECT_THROW(Client c(bad), std::invalid_argument);
  bad = o;
  bad.tls = client::TlsOptions{};  // no CA
  EXPECT_THROW(Client c(bad), std::invalid_argument);

  TempDir dir;
  const std::string file = dir.path() + "/c";
  std::ofstream(file) << "version=1\nuser=alice\ndevice=alice-phone\ncursor=oops\n";
  bad = o;
  bad.cursor_file = file;
  EXPECT_THROW(Client c(bad), std::invalid_argument);
  std::ofstream(file) << "version=1\nuser=alice\ndevice=alice-phone\ncursor=7\n";
  Client c(bad);
  EXPECT_EQ(c.cursor(), 7);
  bad.start_after = 2;
  Client d(bad);
  EXPECT_EQ(d.cursor(), 2) << "start_after wins over the file";
}

class RateLimitedClientTest : public ClientTest {
 protected:
  it::BrokerOptions BrokerOpts() const override {
    it::BrokerOptions b;
    b.plugin_opts = {{"rate_limit_per_s", "20"}, {"rate_limit_burst", "5"}};
    return b;
  }
};

TEST_F(RateLimitedClientTest, TransientErrorsAreRetriedUntilAccepted) {
  Recorder ra;
  client::Options o = Opts("alice", "alice-phone");
  o.receive = false;
  Client alice(o, ra.handlers());
  alice.start();
  std::vector<std::future<client::SendResult>> fs;
  for (int i = 0; i < 30; ++i) fs.push_back(alice.send("bob", "burst " + std::to_string(i)));
  int retried = 0;
  std::set<int32_t> offsets;
  for (auto& f : fs) {
    const auto r = Ready(f, 30s);
    ASSERT_TRUE(r.ok) << r.error_code << ": " << r.error_detail;
    offsets.insert(r.offset);
    if (r.attempts > 1) ++retried;
  }
  EXPECT_GT(retried, 0) << "a burst of 30 at 20/s (burst 5) must meet rate_limited";
  EXPECT_EQ(offsets.size(), 30u);
  EXPECT_EQ(*offsets.rbegin(), 30) << "one entry per message, however often it was sent";

  // Receipts meet the limit too; the client sends them again until applied.
  client::Options ob = Opts("bob", "bob-phone");
  ob.receive = false;
  Client bob(ob);
  bob.start();
  for (int32_t offset = 1; offset <= 30; ++offset) bob.markRead(offset);
  ASSERT_TRUE(ra.WaitFor(
      [&] {
        std::set<int32_t> read;
        for (const auto& x : ra.receipts) {
          if (x.kind == client::Kind::kReceiver && x.state.read) read.insert(x.offset);
        }
        return read.size() == 30;
      },
      30s))
      << "every receipt applied despite rate_limited";
  EXPECT_TRUE(ra.Get(ra.errors).empty());
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

// TLS: a second listener with a self-signed certificate made for the test.
class TlsClientTest : public ClientTest {
 protected:
  void SetUp() override {
    tls_port_ = proc::PickFreePort();
    const std::string d = dir_.path();
    const RunResult gen =
        RunProcess({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", d + "/key.pem", "-out", d + "/cert.pem"});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    ::chmod((d + "/key.pem").c_str(), 0644);
    ClientTest::SetUp();
    ASSERT_TRUE(proc::WaitForPort(tls_port_, 10s)) << "TLS listener on " << tls_port_;
  }
  it::BrokerOptions BrokerOpts() const override {
    it::BrokerOptions b;
    b.extra_config = {"listener " + std::to_string(tls_port_) + " 127.0.0.1", "certfile " + dir_.path() + "/cert.pem",
                      "keyfile " + dir_.path() + "/key.pem"};
    return b;
  }
  TempDir dir_;
  int tls_port_ = 0;
};

TEST_F(TlsClientTest, SendsOverTls) {
  client::Options o = Opts("alice", "alice-phone");
  o.host = "localhost";
  o.port = tls_port_;
  o.tls = client::TlsOptions{.ca_file = dir_.path() + "/cert.pem"};
  Recorder ra;
  Client alice(o, ra.handlers());
  alice.start();
  auto f = alice.send("alice", "note to self over TLS");
  const auto r = Ready(f);
  EXPECT_TRUE(r.ok) << r.error_code << ": " << r.error_detail;
  ASSERT_TRUE(ra.WaitMessages(1));
  EXPECT_EQ(ra.Get(ra.messages)[0].payload, "note to self over TLS");

  client::Options bad = o;
  bad.tls->ca_file = dir_.path() + "/missing.pem";
  EXPECT_THROW(Client c(bad), std::invalid_argument);
}

}  // namespace
}  // namespace courier::client_test
