// Online backup and restore (docs/durability.md): `mdb_copy` of a
// live store, taken while senders keep sending, is a consistent store. A
// broker started on the copy has every message acknowledged before the copy
// began, continues every offset after the copy's heads without a gap, and
// still deduplicates ids that are in the copy. `mdb_copy -c` (compacting)
// of a stopped store restores the same way.
// Label lmdb (LMDB only): the backup is mdb_copy of the LMDB files.
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "proc/process.h"
#include "proc/temp_dir.h"
#include "support/async_device.h"
#include "support/broker.h"
#include "support/device.h"
#include "support/durability.h"
#include "support/fixture.h"
#include "support/process.h"
#include "support/traffic.h"

namespace courier::it {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kMdbCopy = "mdb_copy";  // Debian: lmdb-utils (scripts/deps.sh)

// A (sender, id) -> SENDER ack map of what `senders` hold acknowledged now.
std::map<std::pair<std::string, std::string>, v1::Signal> AckedBySenders(
    const std::vector<std::unique_ptr<LoadSender>>& senders) {
  std::map<std::pair<std::string, std::string>, v1::Signal> out;
  for (const auto& s : senders) {
    for (const auto& [id, rec] : s->records()) {
      if (rec.acked) out[{s->user(), id}] = rec.ack;
    }
  }
  return out;
}

// The highest user_offset of the conversation with `peer` in a log.
int32_t ConversationHead(const std::map<int32_t, v1::Message>& log, const std::string& peer) {
  int32_t head = 0;
  for (const auto& [offset, m] : log) {
    if (m.from().user() == peer || m.to().user() == peer) head = std::max(head, m.user_offset());
  }
  return head;
}

TEST(BackupTest, CopyOfLiveStoreRestoresEverythingAckedBeforeIt) {
  BrokerOptions options;
  options.extra_config = {"max_queued_messages 1000000"};
  Broker broker(options);
  ASSERT_TRUE(broker.Start());

  std::vector<std::unique_ptr<LoadSender>> senders;
  std::vector<AsyncDevice*> devices;
  for (const std::string u : {"alice", "carol"}) {
    senders.push_back(std::make_unique<LoadSender>(u, u + "-phone", std::vector<std::string>{"bob"}, 16, 256, 2s));
    devices.push_back(&senders.back()->device());
  }
  auto step = [&] {
    for (auto& s : senders) s->Step(broker.port());
    PumpAll(devices, 2ms);
  };
  auto acked_count = [&] {
    size_t n = 0;
    for (auto& s : senders) n += s->acked();
    return n;
  };

  // Traffic first, so the copy has something to be consistent about.
  const auto warmup_until = Clock::now() + 30s;
  while (acked_count() < 1000 && Clock::now() < warmup_until) step();
  ASSERT_GE(acked_count(), 1000u);

  // The copy, while the senders keep sending.
  const auto before_copy = AckedBySenders(senders);
  proc::TempDir copy("courier-it-backup-");
  ASSERT_TRUE(copy.ok()) << copy.error();
  const std::string copy_dir = copy.path();
  proc::Process copier;
  proc::SpawnOptions spawn;
  spawn.argv = {kMdbCopy, broker.db_path(), copy_dir};
  spawn.output_file = copy_dir + ".log";
  std::string spawn_error;
  ASSERT_TRUE(copier.Spawn(spawn, &spawn_error)) << spawn_error;
  const size_t acked_at_copy_start = acked_count();
  const auto copy_until = Clock::now() + 60s;
  while (!copier.Exited() && Clock::now() < copy_until) step();
  ASSERT_TRUE(copier.Exited()) << "mdb_copy did not finish in 60 s";
  const int status = copier.wait_status();
  const std::string copy_output = ReadWholeFile(copy_dir + ".log");
  std::filesystem::remove(copy_dir + ".log");
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "mdb_copy failed (wait status " << status << "): " << copy_output;
  const size_t acked_at_copy_end = acked_count();

  // Keep sending a little after the copy, then let everything finish.
  const auto after_until = Clock::now() + 300ms;
  while (Clock::now() < after_until) step();
  for (auto& s : senders) s->set_generating(false);
  const auto drain_until = Clock::now() + 30s;
  while (Clock::now() < drain_until &&
         !std::all_of(senders.begin(), senders.end(), [](auto& s) { return s->idle(); })) {
    step();
  }
  for (auto& s : senders) {
    ASSERT_TRUE(s->idle()) << s->user() << " has unacknowledged messages";
    for (const auto& p : s->problems()) ADD_FAILURE() << s->user() << ": " << p;
  }
  const auto all_acked = AckedBySenders(senders);
  for (auto& s : senders) s->device().Drop();
  broker.Stop();

  // ---- restore: a broker on the copy ----
  BrokerOptions restored_options;
  restored_options.db_path = copy_dir;
  Broker restored(restored_options);
  ASSERT_TRUE(restored.Start());
  CourierDevice b1(restored.port(), "bob", "b1");
  CourierDevice a1(restored.port(), "alice", "a1");
  ASSERT_TRUE(b1.Connect());
  ASSERT_TRUE(a1.Connect());
  std::map<int32_t, v1::Message> bob_log, alice_log;
  int32_t bob_head = 0, alice_head = 0;
  ASSERT_TRUE(PullWholeLog(b1, &bob_log, &bob_head));
  ASSERT_TRUE(PullWholeLog(a1, &alice_log, &alice_head));

  // Bob's log in the copy: offsets 1..head, no id twice, everything acked
  // before the copy began, nothing that was never acknowledged.
  ASSERT_EQ(bob_log.size(), static_cast<size_t>(bob_head));
  ASSERT_TRUE(bob_log.empty() || bob_log.rbegin()->first == bob_head);
  std::map<std::pair<std::string, std::string>, int> count;
  for (const auto& [offset, m] : bob_log) {
    if (++count[{m.from().user(), m.id()}] == 2) ADD_FAILURE() << "twice in the copy: " << Describe(m);
    EXPECT_EQ(all_acked.count({m.from().user(), m.id()}), 1u) << "never acknowledged: " << Describe(m);
  }
  size_t missing = 0;
  for (const auto& [key, ack] : before_copy) {
    if (count.count(key) == 0 && ++missing <= 10) {
      ADD_FAILURE() << "acked before the copy began but not in it: " << key.first << "/" << key.second;
    }
  }
  EXPECT_EQ(missing, 0u);
  std::printf(
      "[backup] acked before the copy: %zu, when it started: %zu, when it ended: %zu, in all: %zu; "
      "bob's log in the copy: %d entries\n",
      before_copy.size(), acked_at_copy_start, acked_at_copy_end, all_acked.size(), bob_head);

  // Dedup in the copy: re-sending an id that is in it returns its original ack.
  const auto& alice_records = senders[0]->records();
  std::string old_id;  // alice's last id acknowledged before the copy began
  int32_t old_offset = 0;
  for (const auto& [key, ack] : before_copy) {
    if (key.first == "alice" && ack.signal_offset() > old_offset) {
      old_id = key.second;
      old_offset = ack.signal_offset();
    }
  }
  ASSERT_FALSE(old_id.empty());
  auto again = SendAndWaitOutcome(a1, alice_records.at(old_id).message);
  ASSERT_TRUE(Acked(again, a1));
  const auto& original = before_copy.at({"alice", old_id});
  EXPECT_EQ(again->signal_offset(), original.signal_offset());
  EXPECT_EQ(again->user_offset(), original.user_offset());

  // Offsets continue after the copy's heads, without a gap.
  b1.DrainInbox();
  auto fresh = SendAndWaitOutcome(a1, NewMessage("after-restore", "bob", "hello again"));
  ASSERT_TRUE(Acked(fresh, a1));
  EXPECT_EQ(fresh->signal_offset(), alice_head + 1);
  EXPECT_EQ(fresh->user_offset(), ConversationHead(bob_log, "alice") + 1);
  auto delivered = b1.NextInbox(WithId("after-restore"));
  ASSERT_TRUE(delivered) << b1.Pending();
  EXPECT_EQ(delivered->signal_offset(), bob_head + 1);
  EXPECT_EQ(delivered->user_offset(), fresh->user_offset());
  a1.Disconnect();
  b1.Disconnect();
  restored.Stop();
}

TEST(BackupTest, CompactedCopyOfStoppedStoreRestores) {
  BrokerOptions fast;
  fast.extra_config = {"set_tcp_nodelay true"};  // one message at a time: no delayed-ACK waits
  Broker broker(fast);
  ASSERT_TRUE(broker.Start());
  CourierDevice a1(broker.port(), "alice", "a1");
  ASSERT_TRUE(a1.Connect());
  constexpr int kCount = 50;
  std::vector<v1::Message> sent;
  std::vector<v1::Signal> acks;
  for (int i = 1; i <= kCount; ++i) {
    sent.push_back(NewMessage("k" + std::to_string(i), i % 2 ? "bob" : "dan", std::string(500, 'k')));
    auto a = SendAndWaitOutcome(a1, sent.back());
    ASSERT_TRUE(Acked(a, a1));
    acks.push_back(*a);
  }
  a1.Disconnect();
  broker.Stop();

  proc::TempDir compact("courier-it-compact-");
  ASSERT_TRUE(compact.ok()) << compact.error();
  ASSERT_TRUE(RunProgram({kMdbCopy, "-c", broker.db_path(), compact.path()}, 60s));

  BrokerOptions options = fast;
  options.db_path = compact.path();
  Broker restored(options);
  ASSERT_TRUE(restored.Start());
  CourierDevice b1(restored.port(), "bob", "b1");
  CourierDevice r1(restored.port(), "alice", "a2");
  ASSERT_TRUE(b1.Connect());
  ASSERT_TRUE(r1.Connect());
  std::map<int32_t, v1::Message> log;
  int32_t head = 0;
  ASSERT_TRUE(PullWholeLog(b1, &log, &head));
  EXPECT_EQ(head, kCount / 2);
  for (int i = 0; i < kCount; ++i) {
    auto again = SendAndWaitOutcome(r1, sent[i]);
    ASSERT_TRUE(Acked(again, r1));
    EXPECT_EQ(again->signal_offset(), acks[i].signal_offset()) << sent[i].id();
    EXPECT_EQ(again->user_offset(), acks[i].user_offset()) << sent[i].id();
  }
  auto next = SendAndWaitOutcome(r1, NewMessage("k-next", "bob", "x"));
  ASSERT_TRUE(Acked(next, r1));
  EXPECT_EQ(next->signal_offset(), kCount + 1);
  EXPECT_EQ(next->user_offset(), kCount / 2 + 1);
  b1.Disconnect();
  r1.Disconnect();
  restored.Stop();
}

}  // namespace
}  // namespace courier::it
