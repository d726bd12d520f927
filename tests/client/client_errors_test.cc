// The client library against a real mosquitto with the Courier plugin
// (support/client_fixture.h: one broker per test), and without one: errors
// that end a send, retries of transient ones, timeouts, close, and options
// the client refuses.
#include <algorithm>
#include <fstream>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "courier/client.h"
#include "proc/loopback.h"
#include "support/broker.h"
#include "support/child.h"
#include "support/client_fixture.h"

namespace courier::client_test {
namespace {

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

}  // namespace
}  // namespace courier::client_test
