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
#include <optional>
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

// (sender, id) -> SENDER ack.
using Acks = std::map<std::pair<std::string, std::string>, v1::Signal>;

// What `senders` hold acknowledged now.
Acks AckedBySenders(const std::vector<std::unique_ptr<LoadSender>>& senders) {
  Acks out;
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

// The live-copy scenario runs in phases, each a method of the fixture: load
// a broker, copy its store while the senders keep sending, let them finish,
// then start a broker on the copy and check what it holds and does.
class BackupTest : public ::testing::Test {
 protected:
  // ---- load: alice and carol send to bob ----
  void StartBrokerAndSenders() {
    BrokerOptions options;
    options.extra_config = {"max_queued_messages 1000000"};
    broker_ = std::make_unique<Broker>(options);
    ASSERT_TRUE(broker_->Start());
    for (const std::string u : {"alice", "carol"}) {
      senders_.push_back(std::make_unique<LoadSender>(u, u + "-phone", std::vector<std::string>{"bob"}, 16, 256, 2s));
      devices_.push_back(&senders_.back()->device());
    }
  }

  // One round of the senders' work and the network.
  void Step() {
    for (auto& s : senders_) s->Step(broker_->port());
    PumpAll(devices_, 2ms);
  }
  size_t AckedCount() const {
    size_t n = 0;
    for (auto& s : senders_) n += s->acked();
    return n;
  }

  // Traffic first, so the copy has something to be consistent about.
  void WarmUp() {
    const auto warmup_until = Clock::now() + 30s;
    while (AckedCount() < 1000 && Clock::now() < warmup_until) Step();
    ASSERT_GE(AckedCount(), 1000u);
  }

  // ---- copy: mdb_copy while the senders keep sending ----
  void CopyWhileSending() {
    before_copy_ = AckedBySenders(senders_);
    copy_.emplace("courier-it-backup-");
    ASSERT_TRUE(copy_->ok()) << copy_->error();
    const std::string copy_dir = copy_->path();
    proc::Process copier;
    proc::SpawnOptions spawn;
    spawn.argv = {kMdbCopy, broker_->db_path(), copy_dir};
    spawn.output_file = copy_dir + ".log";
    std::string spawn_error;
    ASSERT_TRUE(copier.Spawn(spawn, &spawn_error)) << spawn_error;
    acked_at_copy_start_ = AckedCount();
    const auto copy_until = Clock::now() + 60s;
    while (!copier.Exited() && Clock::now() < copy_until) Step();
    ASSERT_TRUE(copier.Exited()) << "mdb_copy did not finish in 60 s";
    const int status = copier.wait_status();
    const std::string copy_output = ReadWholeFile(copy_dir + ".log");
    std::filesystem::remove(copy_dir + ".log");
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "mdb_copy failed (wait status " << status << "): " << copy_output;
    acked_at_copy_end_ = AckedCount();
  }

  // ---- drain: keep sending a little after the copy, then let everything finish ----
  void FinishSending() {
    const auto after_until = Clock::now() + 300ms;
    while (Clock::now() < after_until) Step();
    for (auto& s : senders_) s->set_generating(false);
    const auto drain_until = Clock::now() + 30s;
    while (Clock::now() < drain_until &&
           !std::all_of(senders_.begin(), senders_.end(), [](auto& s) { return s->idle(); })) {
      Step();
    }
    for (auto& s : senders_) {
      ASSERT_TRUE(s->idle()) << s->user() << " has unacknowledged messages";
      for (const auto& p : s->problems()) ADD_FAILURE() << s->user() << ": " << p;
    }
    all_acked_ = AckedBySenders(senders_);
    for (auto& s : senders_) s->device().Drop();
    broker_->Stop();
  }

  // ---- restore: a broker on the copy, and bob's and alice's logs in it ----
  void StartOnTheCopy() {
    BrokerOptions restored_options;
    restored_options.db_path = copy_->path();
    restored_ = std::make_unique<Broker>(restored_options);
    ASSERT_TRUE(restored_->Start());
    b1_ = std::make_unique<CourierDevice>(restored_->port(), "bob", "b1");
    a1_ = std::make_unique<CourierDevice>(restored_->port(), "alice", "a1");
    ASSERT_TRUE(b1_->Connect());
    ASSERT_TRUE(a1_->Connect());
    ASSERT_TRUE(PullWholeLog(*b1_, &bob_log_, &bob_head_));
    ASSERT_TRUE(PullWholeLog(*a1_, &alice_log_, &alice_head_));
  }

  // Bob's log in the copy: offsets 1..head, no id twice, everything acked
  // before the copy began, nothing that was never acknowledged.
  void ExpectBobsLogHoldsWhatWasAckedBeforeTheCopy() {
    ASSERT_EQ(bob_log_.size(), static_cast<size_t>(bob_head_));
    ASSERT_TRUE(bob_log_.empty() || bob_log_.rbegin()->first == bob_head_);
    std::map<std::pair<std::string, std::string>, int> count;
    for (const auto& [offset, m] : bob_log_) {
      if (++count[{m.from().user(), m.id()}] == 2) ADD_FAILURE() << "twice in the copy: " << Describe(m);
      EXPECT_EQ(all_acked_.count({m.from().user(), m.id()}), 1u) << "never acknowledged: " << Describe(m);
    }
    size_t missing = 0;
    for (const auto& [key, ack] : before_copy_) {
      if (count.count(key) == 0 && ++missing <= 10) {
        ADD_FAILURE() << "acked before the copy began but not in it: " << key.first << "/" << key.second;
      }
    }
    EXPECT_EQ(missing, 0u);
    std::printf(
        "[backup] acked before the copy: %zu, when it started: %zu, when it ended: %zu, in all: %zu; "
        "bob's log in the copy: %d entries\n",
        before_copy_.size(), acked_at_copy_start_, acked_at_copy_end_, all_acked_.size(), bob_head_);
  }

  // Dedup in the copy: re-sending an id that is in it returns its original ack.
  void ExpectResendOfAnIdInTheCopyGetsItsAck() {
    const auto& alice_records = senders_[0]->records();
    std::string old_id;  // alice's last id acknowledged before the copy began
    int32_t old_offset = 0;
    for (const auto& [key, ack] : before_copy_) {
      if (key.first == "alice" && ack.signal_offset() > old_offset) {
        old_id = key.second;
        old_offset = ack.signal_offset();
      }
    }
    ASSERT_FALSE(old_id.empty());
    auto again = SendAndWaitOutcome(*a1_, alice_records.at(old_id).message);
    ASSERT_TRUE(Acked(again, *a1_));
    const auto& original = before_copy_.at({"alice", old_id});
    EXPECT_EQ(again->signal_offset(), original.signal_offset());
    EXPECT_EQ(again->user_offset(), original.user_offset());
  }

  // Offsets continue after the copy's heads, without a gap.
  void ExpectOffsetsContinueAfterTheCopy() {
    b1_->DrainInbox();
    auto fresh = SendAndWaitOutcome(*a1_, NewMessage("after-restore", "bob", "hello again"));
    ASSERT_TRUE(Acked(fresh, *a1_));
    EXPECT_EQ(fresh->signal_offset(), alice_head_ + 1);
    EXPECT_EQ(fresh->user_offset(), ConversationHead(bob_log_, "alice") + 1);
    auto delivered = b1_->NextInbox(WithId("after-restore"));
    ASSERT_TRUE(delivered) << b1_->Pending();
    EXPECT_EQ(delivered->signal_offset(), bob_head_ + 1);
    EXPECT_EQ(delivered->user_offset(), fresh->user_offset());
  }

  // The live broker and its load.
  std::unique_ptr<Broker> broker_;
  std::vector<std::unique_ptr<LoadSender>> senders_;
  std::vector<AsyncDevice*> devices_;
  // The copy and what the senders held acknowledged around it.
  std::optional<proc::TempDir> copy_;
  Acks before_copy_, all_acked_;
  size_t acked_at_copy_start_ = 0, acked_at_copy_end_ = 0;
  // The broker on the copy, a device of bob and of alice, and their logs.
  std::unique_ptr<Broker> restored_;
  std::unique_ptr<CourierDevice> b1_, a1_;
  std::map<int32_t, v1::Message> bob_log_, alice_log_;
  int32_t bob_head_ = 0, alice_head_ = 0;
};

TEST_F(BackupTest, CopyOfLiveStoreRestoresEverythingAckedBeforeIt) {
  ASSERT_NO_FATAL_FAILURE(StartBrokerAndSenders());
  ASSERT_NO_FATAL_FAILURE(WarmUp());
  ASSERT_NO_FATAL_FAILURE(CopyWhileSending());
  ASSERT_NO_FATAL_FAILURE(FinishSending());
  ASSERT_NO_FATAL_FAILURE(StartOnTheCopy());
  ASSERT_NO_FATAL_FAILURE(ExpectBobsLogHoldsWhatWasAckedBeforeTheCopy());
  ASSERT_NO_FATAL_FAILURE(ExpectResendOfAnIdInTheCopyGetsItsAck());
  ASSERT_NO_FATAL_FAILURE(ExpectOffsetsContinueAfterTheCopy());
  a1_->Disconnect();
  b1_->Disconnect();
  restored_->Stop();
}

TEST_F(BackupTest, CompactedCopyOfStoppedStoreRestores) {
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
