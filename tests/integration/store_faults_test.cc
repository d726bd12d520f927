// Storage faults: the map grows up to plugin_opt_max_map_size_mb;
// past it, and when the disk is full, sends get the transient error
// store_full while the broker keeps serving everything else, and the same
// message (same id) is accepted exactly once when space returns. A store
// that cannot be opened makes the plugin refuse to load with one log line.
//
// Tests that need a small or read-only file system mount a tmpfs: they need
// root (CI runs them as root) and fail, with a message saying so, without it.
// This test forges a store from a future build (another schema version), which
// no Store request may write, with the LMDB engine's test support
// (lmdb_testing.h), and opens the engine itself to create a valid, empty store.
// Label lmdb (LMDB only): map sizes, a full tmpfs and forged LMDB files are faults of the LMDB engine.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "support/async_device.h"
#include "support/broker.h"
#include "support/device.h"
#include "support/durability.h"
#include "support/fixture.h"
#include "lmdb_store.h"
#include "lmdb_testing.h"
#include "support/traffic.h"

namespace courier::it {
namespace {

using namespace std::chrono_literals;

constexpr const char* kRefusal = "courier: refusing to load:";
const std::string kTwoKiB(2048, 'p');

std::string LogTail(const Broker& b) {
  std::string log = b.log();
  return log.size() > 6000 ? "...\n" + log.substr(log.size() - 6000) : log;
}

size_t CountId(const std::map<int32_t, v1::Message>& log, const std::string& id) {
  size_t n = 0;
  for (const auto& [offset, m] : log) n += m.id() == id ? 1 : 0;
  return n;
}

// Sends 2 KiB messages "<prefix>1", "<prefix>2", ... one at a time until one
// is refused with the transient error `code`; returns how many were
// acknowledged and the refusal. Any other transient error is a failure of
// the test, but the message is retried (as a client would) up to 10 times.
struct UntilRefused {
  int acked = 0;
  v1::Message refused_message;
  std::optional<v1::Signal> refusal;
};
UntilRefused SendUntilRefused(CourierDevice& d, const std::string& prefix, int max_messages, const std::string& code) {
  UntilRefused out;
  for (int i = 1; i <= max_messages; ++i) {
    v1::Message m = NewMessage(prefix + std::to_string(i), "bob", kTwoKiB);
    for (int attempt = 1;; ++attempt) {
      auto outcome = SendAndWaitOutcome(d, m);
      if (!outcome) {
        ADD_FAILURE() << "no ack and no error for " << m.id() << "; queued:\n" << d.Pending();
        return out;
      }
      if (IsSenderAck(*outcome)) {
        ++out.acked;
        EXPECT_EQ(outcome->signal_offset(), out.acked) << Describe(*outcome);
        d.DrainInbox();  // DEVICE copies
        break;
      }
      if (IsTransientError(*outcome, code) || outcome->type() != kResponse || attempt >= 10) {
        out.refused_message = m;
        out.refusal = outcome;
        return out;
      }
      ADD_FAILURE() << "unexpected transient error (retrying " << m.id() << "): " << Describe(*outcome);
    }
  }
  return out;
}

// ---- (a) map growth ----------------------------------------------------------

TEST(StoreFaultsTest, MapGrowsFromOneMiBUntilEveryMessageIsAcked) {
  BrokerOptions options;
  options.plugin_opts = {{"map_size_mb", "1"}, {"max_map_size_mb", "64"}};
  options.extra_config = {"max_queued_messages 1000000"};
  Broker broker(options);
  ASSERT_TRUE(broker.Start());

  // 2000 messages of 2 KiB to bob from 4 senders (500 each, 16
  // unacknowledged at a time, retried after 5 s without an ack, which
  // should not happen). Several senders, because Mosquitto reads one packet
  // per client per loop round: one client alone gets one message per commit.
  constexpr int kSenders = 4, kPerSender = 500, kCount = kSenders * kPerSender;
  std::vector<std::unique_ptr<LoadSender>> senders;
  std::vector<AsyncDevice*> devices;
  for (const std::string u : {"alice", "carol", "dave", "erin"}) {
    senders.push_back(
        std::make_unique<LoadSender>(u, u + "-1", std::vector<std::string>{"bob"}, 16, 2048, std::chrono::seconds(5)));
    senders.back()->set_max_messages(kPerSender);
    devices.push_back(&senders.back()->device());
  }
  auto idle = [&] { return std::all_of(senders.begin(), senders.end(), [](auto& s) { return s->idle(); }); };
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (!idle() && std::chrono::steady_clock::now() < until) {
    for (auto& s : senders) s->Step(broker.port());
    PumpAll(devices, std::chrono::milliseconds(2));
  }
  for (auto& s : senders) {
    for (const auto& p : s->problems()) ADD_FAILURE() << s->user() << ": " << p;
    ASSERT_EQ(s->acked(), size_t{kPerSender}) << s->user() << ", within 60 s\n" << LogTail(broker);
    EXPECT_EQ(s->transient_errors(), 0u) << LogTail(broker);
    EXPECT_EQ(s->retries(), 0u);
    std::set<int32_t> offsets;
    for (const auto& [id, rec] : s->records()) offsets.insert(rec.ack.signal_offset());
    ASSERT_EQ(offsets.size(), size_t{kPerSender});
    EXPECT_EQ(*offsets.begin(), 1);
    EXPECT_EQ(*offsets.rbegin(), kPerSender);
    s->device().Drop();
  }

  // Bob's log has all of them, each once, at offsets 1..2000.
  CourierDevice b1(broker.port(), "bob", "b1");
  ASSERT_TRUE(b1.Connect());
  std::map<int32_t, v1::Message> bob_log;
  int32_t head = 0;
  ASSERT_TRUE(PullWholeLog(b1, &bob_log, &head));
  EXPECT_EQ(head, kCount);
  ASSERT_EQ(bob_log.size(), size_t{kCount});
  EXPECT_EQ(bob_log.rbegin()->first, kCount);
  std::set<std::pair<std::string, std::string>> ids;
  for (const auto& [offset, m] : bob_log) ids.insert({m.from().user(), m.id()});
  EXPECT_EQ(ids.size(), size_t{kCount});

  b1.Disconnect();
  broker.Stop();
  // 2000 x 2 KiB twice (bob's copy, the sender's copy) cannot fit in 1 MiB: the map grew.
  const auto data_size = std::filesystem::file_size(broker.db_path() + "/data.mdb");
  std::printf("[store-faults] map growth: %d messages of 2 KiB, data.mdb %.1f MiB (map started at 1 MiB)\n", kCount,
              static_cast<double>(data_size) / (1024 * 1024));
  EXPECT_GT(data_size, 4u << 20);
  EXPECT_EQ(CountLines(broker.log(), "store_full"), 0u);
}

// ---- (b) full map ------------------------------------------------------------

TEST(StoreFaultsTest, FullMapGivesStoreFullKeepsServingAndAcceptsTheRetryOnceAfterRaise) {
  BrokerOptions options;
  options.plugin_opts = {{"map_size_mb", "1"}, {"max_map_size_mb", "1"}};
  // One message at a time: without TCP_NODELAY each round trip waits for
  // delayed ACKs (~90 ms here), which only makes the test slow.
  options.extra_config = {"set_tcp_nodelay true"};
  Broker broker(options);
  ASSERT_TRUE(broker.Start());
  CourierDevice a1(broker.port(), "alice", "a1");
  ASSERT_TRUE(a1.Connect());

  auto run = SendUntilRefused(a1, "f", 1000, "store_full");
  ASSERT_TRUE(run.refusal) << "1000 messages of 2 KiB fit in a 1 MiB map?";
  const v1::Message& refused = run.refused_message;
  const int n = run.acked;
  ASSERT_GT(n, 0);
  EXPECT_TRUE(IsTransientError(*run.refusal, "store_full")) << Describe(*run.refusal);
  EXPECT_EQ(run.refusal->id(), refused.id());
  std::printf("[store-faults] full map: %d messages of 2 KiB acknowledged in a 1 MiB map, then %s\n", n,
              run.refusal->error().c_str());
  ASSERT_TRUE(broker.Alive()) << LogTail(broker);

  // Still full: the retry is refused the same way, and nothing was written.
  auto again = SendAndWaitOutcome(a1, refused);
  ASSERT_TRUE(again) << a1.Pending();
  EXPECT_TRUE(IsTransientError(*again, "store_full")) << Describe(*again);

  // Everything that does not append still works: another user's pull,
  // receipt and activity.
  CourierDevice b1(broker.port(), "bob", "b1");
  ASSERT_TRUE(b1.Connect());
  std::map<int32_t, v1::Message> bob_log;
  int32_t head = 0;
  ASSERT_TRUE(PullWholeLog(b1, &bob_log, &head));
  EXPECT_EQ(head, n);
  EXPECT_EQ(bob_log.size(), size_t(n));
  EXPECT_EQ(CountId(bob_log, refused.id()), 0u);

  v1::Signal read = Receipt(1, true, true);
  read.set_id("f1");
  ASSERT_TRUE(b1.Signal(read));
  auto notice = a1.NextEvent(NoticeFor("f1", kReceiver));
  EXPECT_TRUE(notice) << "receipt on a full map: alice got no RECEIVER notice; bob's queue:\n" << b1.Pending();

  CourierDevice c1(broker.port(), "carol", "c1");
  ASSERT_TRUE(c1.Connect());
  ASSERT_TRUE(c1.Signal(Activity("bob", kTyping)));
  auto typing = b1.NextEvent([](const v1::Signal& s) { return s.status() == kTyping && s.from().user() == "carol"; });
  EXPECT_TRUE(typing) << b1.Pending();
  EXPECT_TRUE(broker.Alive());

  // Raise the limit and restart: the same message is accepted, once.
  a1.Disconnect();
  b1.Disconnect();
  c1.Disconnect();
  broker.Stop();
  broker.options().plugin_opts = {{"map_size_mb", "1"}, {"max_map_size_mb", "8"}};
  ASSERT_TRUE(broker.Restart());
  ASSERT_TRUE(a1.Reconnect(broker.port()));
  auto ack = SendAndWaitOutcome(a1, refused);
  ASSERT_TRUE(ack) << a1.Pending();
  ASSERT_TRUE(IsSenderAck(*ack)) << Describe(*ack);
  EXPECT_EQ(ack->signal_offset(), n + 1);
  EXPECT_EQ(ack->user_offset(), n + 1);
  auto dup = SendAndWaitOutcome(a1, refused);
  ASSERT_TRUE(Acked(dup, a1));
  EXPECT_EQ(dup->signal_offset(), ack->signal_offset());
  EXPECT_EQ(dup->user_offset(), ack->user_offset());

  ASSERT_TRUE(b1.Reconnect(broker.port()));
  b1.DrainInbox();
  ASSERT_TRUE(PullWholeLog(b1, &bob_log, &head));
  EXPECT_EQ(head, n + 1);
  EXPECT_EQ(CountId(bob_log, refused.id()), 1u);
  ASSERT_EQ(bob_log.count(n + 1), 1u);
  EXPECT_EQ(bob_log.at(n + 1).id(), refused.id());
}

// ---- (c) disk full -----------------------------------------------------------

TEST(StoreFaultsTest, DiskFullGivesStoreFullAndTheRetrySucceedsOnceSpaceReturns) {
  TmpfsMount disk;  // declared first: unmounted after the broker is gone
  ASSERT_TRUE(disk.Mount("size=4m,mode=0700"));
  BrokerOptions options;
  options.db_path = disk.path() + "/db";
  // The map (address space) is larger than the disk: the disk fills first.
  options.plugin_opts = {{"map_size_mb", "64"}, {"max_map_size_mb", "64"}};
  options.extra_config = {"set_tcp_nodelay true"};
  Broker broker(options);
  ASSERT_TRUE(broker.Start());
  CourierDevice a1(broker.port(), "alice", "a1");
  CourierDevice b1(broker.port(), "bob", "b1");
  ASSERT_TRUE(a1.Connect());
  ASSERT_TRUE(b1.Connect());
  auto first = SendAndWaitOutcome(a1, NewMessage("d0", "bob", "before the disk filled up"));
  ASSERT_TRUE(Acked(first, a1));

  const std::string filler = disk.path() + "/filler";
  uint64_t filled = 0;
  ASSERT_TRUE(FillUp(filler, &filled));

  auto run = SendUntilRefused(a1, "d", 2000, "store_full");
  ASSERT_TRUE(run.refusal) << "the disk never filled up";
  const v1::Message& refused = run.refused_message;
  const int n = run.acked + 1;  // d0 and d1..
  std::printf("[store-faults] disk full: filler %.1f MiB, %d more messages fit, then %s\n",
              static_cast<double>(filled) / (1024 * 1024), run.acked, run.refusal->error().c_str());
  EXPECT_TRUE(IsTransientError(*run.refusal, "store_full"))
      << "ENOSPC must give the transient store_full, got " << Describe(*run.refusal);
  ASSERT_EQ(run.refusal->type(), kResponse) << "must be transient: " << Describe(*run.refusal);
  ASSERT_TRUE(broker.Alive()) << LogTail(broker);

  // Reads still work while the disk is full.
  b1.DrainInbox();
  std::map<int32_t, v1::Message> bob_log;
  int32_t head = 0;
  ASSERT_TRUE(PullWholeLog(b1, &bob_log, &head));
  EXPECT_EQ(head, n);
  EXPECT_EQ(CountId(bob_log, refused.id()), 0u);

  // Space returns: the same message goes through, without a restart, once.
  ASSERT_EQ(::unlink(filler.c_str()), 0) << std::strerror(errno);
  auto ack = SendAndWaitOutcome(a1, refused);
  ASSERT_TRUE(ack) << a1.Pending();
  ASSERT_TRUE(IsSenderAck(*ack)) << Describe(*ack) << "\n" << LogTail(broker);
  EXPECT_EQ(ack->signal_offset(), n + 1);
  auto next = SendAndWaitOutcome(a1, NewMessage("after", "bob", "space is back"));
  ASSERT_TRUE(Acked(next, a1));
  EXPECT_EQ(next->signal_offset(), n + 2);
  EXPECT_TRUE(broker.Alive());

  b1.DrainInbox();
  ASSERT_TRUE(PullWholeLog(b1, &bob_log, &head));
  EXPECT_EQ(head, n + 2);
  EXPECT_EQ(bob_log.size(), size_t(n + 2));
  EXPECT_EQ(CountId(bob_log, refused.id()), 1u);
  a1.Disconnect();
  b1.Disconnect();
  broker.Stop();
}

// ---- (d) stores that cannot be opened ------------------------------------------

// Starts `broker`, which must refuse: mosquitto exits non-zero and its log
// has exactly one refusal line, which contains `expected`.
void ExpectRefusal(Broker& broker, const std::string& expected) {
  int status = -1;
  ASSERT_TRUE(broker.StartExpectingExit(&status));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0)
      << "mosquitto should exit with a non-zero status, wait status " << status;
  const std::string log = broker.log();
  std::string line;
  EXPECT_EQ(CountLines(log, kRefusal, &line), 1u) << log;
  EXPECT_NE(line.find(expected), std::string::npos)
      << "the refusal should name the problem ('" << expected << "'): " << line;
  std::printf("[store-faults] %s\n", line.c_str());
}

TEST(StoreStartupTest, ParentOfStoreDirectoryMissing) {
  Broker broker;
  broker.options().db_path = broker.data_dir() + "/no-such-parent/db";
  ExpectRefusal(broker, broker.options().db_path + ": No such file or directory");
}

TEST(StoreStartupTest, StorePathIsARegularFile) {
  Broker broker;
  broker.options().db_path = broker.data_dir() + "/a-file";
  std::ofstream(broker.options().db_path) << "not a store\n";
  ExpectRefusal(broker, "not a directory");
}

TEST(StoreStartupTest, StoreOnReadOnlyFileSystem) {
  TmpfsMount disk;
  ASSERT_TRUE(disk.Mount("size=4m,mode=0700"));
  const std::string db = disk.path() + "/db";
  {
    std::unique_ptr<storage::LmdbStore> store;  // creates a valid, empty store
    ASSERT_TRUE(storage::LmdbStore::Open({.path = db}, &store).ok());
  }
  // chmod would not stop root; a read-only file system does.
  ASSERT_TRUE(disk.RemountReadOnly());
  Broker broker;
  broker.options().db_path = db;
  ExpectRefusal(broker, "Read-only file system");
}

TEST(StoreStartupTest, MissingStoreDirectoryOnReadOnlyFileSystem) {
  TmpfsMount disk;
  ASSERT_TRUE(disk.Mount("size=4m,mode=0700"));
  ASSERT_TRUE(disk.RemountReadOnly());
  Broker broker;
  broker.options().db_path = disk.path() + "/db";
  ExpectRefusal(broker, "Read-only file system");
}

TEST(StoreStartupTest, UnknownSchemaVersion) {
  Broker broker;
  {
    std::unique_ptr<storage::LmdbStore> store;  // creates a valid, empty store
    ASSERT_TRUE(storage::LmdbStore::Open({.path = broker.db_path()}, &store).ok());
  }
  // A store from a future build: schema version "999".
  ASSERT_TRUE(storage::WriteSchemaVersionForTesting(broker.db_path(), "999").ok());

  ExpectRefusal(broker, "schema version 999");
}

TEST(StoreStartupTest, BadOptionValue) {
  BrokerOptions options;
  options.plugin_opts = {{"sync", "fast"}};
  Broker broker(options);
  ExpectRefusal(broker, "plugin_opt_sync 'fast' must be 'full', 'nometa' or 'os'");
}

}  // namespace
}  // namespace courier::it
