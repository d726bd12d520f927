// Crash test (protocol.md "Guarantees", issue 3): kill -9 at random moments
// under full load loses nothing acknowledged and duplicates nothing.
//
// 4 sender users (one device each) send messages with unique ids at full
// speed (16 unacknowledged each) to 2 receiver users, alternating, and resend
// every message with the same id until they hold its SENDER ack, also across
// reconnects. Meanwhile the test kills the broker with SIGKILL 20 times, each
// 100-700 ms (random, seeded) after it came back, and restarts it on the same
// port and data directory; clients reconnect with backoff. Receivers take
// what arrives live and pull after every reconnect. At the end the broker is
// stopped and the store is read directly (LmdbStore) to check every promise.
// It runs once per sync mode: `full` and `os` both promise that a process
// crash loses nothing acknowledged (only power loss separates them).
//
// Reproduce a run with COURIER_CRASH_SEED=<seed printed by the test>.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/async_device.h"
#include "support/broker.h"
#include "support/store_reader.h"
#include "support/traffic.h"

namespace courier::it {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kKills = 20;
constexpr int kMinUpMs = 100, kMaxUpMs = 700;
constexpr size_t kWindow = 16;
constexpr size_t kPayloadBytes = 64;
// Only a memory bound: the chaos phase (20 kills, 100-700 ms apart, about
// 8-10 s) ends generation. 20,000 was reached after 8 kills once sync os ran
// at about 23,000 msg/s here, and the kills after it hit an idle broker;
// 150,000 per sender lasts about 26 s at that rate.
constexpr size_t kMaxPerSender = 150000;
constexpr auto kRetryAfter = std::chrono::seconds(2);
constexpr auto kChaosLimit = std::chrono::seconds(120);
constexpr auto kDrainLimit = std::chrono::seconds(60);

const std::vector<std::string> kSenders = {"alice", "carol", "dave", "erin"};
const std::vector<std::string> kReceivers = {"bob", "frank"};

uint64_t Seed() {
  if (const char* s = std::getenv("COURIER_CRASH_SEED"); s != nullptr && *s != '\0') {
    return std::strtoull(s, nullptr, 10);
  }
  return (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
}

std::string Tail(const std::string& s, size_t n) {
  return s.size() <= n ? s : "...\n" + s.substr(s.size() - n);
}

class CrashTest : public ::testing::TestWithParam<const char*> {
 protected:
  void TearDown() override {
    if (HasFailure() && broker_) {
      std::fprintf(stderr, "----- broker log tail (dir %s) -----\n%s\n-----\n",
                   broker_->data_dir().c_str(), Tail(broker_->log(), 8000).c_str());
    }
  }
  std::unique_ptr<Broker> broker_;
};

TEST_P(CrashTest, Kill9UnderLoadLosesAndDuplicatesNothing) {
  const uint64_t seed = Seed();
  std::printf("[crash] sync=%s seed=%llu (rerun with COURIER_CRASH_SEED=%llu)\n", GetParam(),
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> uptime(kMinUpMs, kMaxUpMs);

  BrokerOptions options;
  // Receivers get bursts of thousands of QoS 1 publishes; Mosquitto's default
  // queue of 1000 per client would drop some (they would be pulled later, but
  // the test should see the plugin's behaviour, not the queue limit's).
  options.extra_config = {"max_queued_messages 1000000"};
  options.plugin_opts = {{"sync", GetParam()}};
  broker_ = std::make_unique<Broker>(options);
  Broker& broker = *broker_;
  ASSERT_TRUE(broker.Start());

  std::vector<std::unique_ptr<LoadSender>> senders;
  std::vector<std::unique_ptr<LoadReceiver>> receivers;
  std::vector<AsyncDevice*> devices;
  for (const auto& u : kSenders) {
    senders.push_back(
        std::make_unique<LoadSender>(u, u + "-phone", kReceivers, kWindow, kPayloadBytes, kRetryAfter));
    senders.back()->set_max_messages(kMaxPerSender);
    devices.push_back(&senders.back()->device());
  }
  for (const auto& u : kReceivers) {
    receivers.push_back(std::make_unique<LoadReceiver>(u, u + "-phone"));
    devices.push_back(&receivers.back()->device());
  }
  auto step = [&] {
    for (auto& s : senders) s->Step(broker.port());
    for (auto& r : receivers) r->Step(broker.port());
    PumpAll(devices, milliseconds(2));
  };
  auto total_acked = [&] {
    size_t n = 0;
    for (auto& s : senders) n += s->acked();
    return n;
  };
  auto total_in_flight = [&] {
    size_t n = 0;
    for (auto& s : senders) n += s->in_flight();
    return n;
  };

  // ---- chaos: kill -9 at random moments under full load ----
  const auto started = Clock::now();
  int kills = 0, kills_with_unacked = 0;
  auto next_kill = Clock::now() + milliseconds(uptime(rng));
  while (kills < kKills) {
    ASSERT_LT(Clock::now() - started, kChaosLimit) << "chaos phase took too long";
    step();
    if (Clock::now() < next_kill) continue;
    if (total_in_flight() > 0) ++kills_with_unacked;
    broker.Kill9();
    ++kills;
    std::printf("[crash] kill %2d: acked so far %zu, unacknowledged in flight %zu\n", kills,
                total_acked(), total_in_flight());
    std::fflush(stdout);
    ASSERT_TRUE(broker.Restart());
    next_kill = Clock::now() + milliseconds(uptime(rng));
  }
  const auto chaos_ms =
      std::chrono::duration_cast<milliseconds>(Clock::now() - started).count();

  // ---- calm: finish what is in flight ----
  for (auto& s : senders) s->set_generating(false);
  const auto drain_until = Clock::now() + kDrainLimit;
  auto all_idle = [&] {
    return std::all_of(senders.begin(), senders.end(), [](auto& s) { return s->idle(); });
  };
  while (!all_idle() && Clock::now() < drain_until) step();
  for (auto& s : senders) {
    EXPECT_TRUE(s->idle()) << s->user() << " still has " << s->in_flight()
                           << " unacknowledged messages after " << kDrainLimit.count() << " s";
  }
  ASSERT_TRUE(all_idle());

  // Every acknowledged id, by (sender, id), and how many each receiver expects.
  std::map<std::pair<std::string, std::string>, const LoadSender::Record*> acked;
  std::map<std::string, size_t> expected_per_receiver;
  for (auto& s : senders) {
    for (const auto& [id, rec] : s->records()) {
      if (!rec.acked) continue;
      acked[{s->user(), id}] = &rec;
      ++expected_per_receiver[rec.receiver];
    }
  }

  // ---- one graceful restart, then every receiver completes by pulling ----
  broker.Stop();
  ASSERT_TRUE(broker.Restart());
  auto receivers_complete = [&] {
    for (auto& r : receivers) {
      if (!r->caught_up() || static_cast<size_t>(r->contiguous()) < expected_per_receiver[r->user()]) {
        return false;
      }
    }
    return true;
  };
  const auto pull_until = Clock::now() + kDrainLimit;
  while (!receivers_complete() && Clock::now() < pull_until) {
    step();
    for (auto& r : receivers) {
      if (r->caught_up() && static_cast<size_t>(r->contiguous()) < expected_per_receiver[r->user()]) {
        r->RequestPull();
      }
    }
  }
  for (auto& r : receivers) {
    EXPECT_TRUE(r->caught_up()) << r->user() << ": holds 1.." << r->contiguous() << ", head "
                                << r->head();
  }
  for (auto& s : senders) s->device().Drop();
  for (auto& r : receivers) r->device().Drop();
  broker.Stop();  // SIGTERM: the plugin flushes and closes the store
  ASSERT_FALSE(broker.running());

  for (auto& s : senders) {
    for (const auto& p : s->problems()) ADD_FAILURE() << s->user() << ": " << p;
  }
  for (auto& r : receivers) {
    for (const auto& p : r->problems()) ADD_FAILURE() << r->user() << ": " << p;
  }

  // ---- what is on disk ----
  std::unique_ptr<StoreReader> reader;
  ASSERT_TRUE(StoreReader::Open(broker.db_path(), &reader));
  std::map<std::string, std::vector<v1::Message>> logs;
  std::vector<std::string> users = kSenders;
  users.insert(users.end(), kReceivers.begin(), kReceivers.end());
  size_t gap_or_reuse = 0;
  for (const auto& u : users) {
    int32_t head = 0;
    ASSERT_TRUE(reader->Log(u, &logs[u], &head));
    const auto& log = logs[u];
    // Offsets 1..N, no gap, no reuse, and the head counter says N.
    EXPECT_EQ(static_cast<size_t>(head), log.size()) << u << ": head counter vs entries";
    for (size_t i = 0; i < log.size(); ++i) {
      if (log[i].signal_offset() != static_cast<int32_t>(i + 1)) {
        if (++gap_or_reuse <= 10) {
          ADD_FAILURE() << u << ": entry " << i + 1 << " has offset " << log[i].signal_offset();
        }
      }
    }
  }
  EXPECT_EQ(gap_or_reuse, 0u) << "entries whose offset is not their position";

  // No id twice in any log.
  size_t duplicates = 0;
  for (const auto& [u, log] : logs) {
    std::map<std::pair<std::string, std::string>, int> seen;
    for (const auto& e : log) {
      // Key by (sender, id): in a receiver's log the sender is from.user;
      // in a sender's own log every entry is its own.
      if (++seen[{e.from().user(), e.id()}] == 2 && ++duplicates <= 10) {
        ADD_FAILURE() << u << ": id " << e.from().user() << "/" << e.id() << " stored twice";
      }
    }
  }
  EXPECT_EQ(duplicates, 0u) << "ids stored more than once";

  // Receivers: every acknowledged id exactly once, nothing else; per
  // conversation, user_offsets 1..K without gap in log order.
  size_t stored = 0, missing = 0, unacked_stored = 0;
  std::map<std::pair<std::string, std::string>, const v1::Message*> receiver_copy;
  for (const auto& r : kReceivers) {
    std::map<std::string, std::vector<int32_t>> conv;  // sender -> user_offsets in log order
    for (const auto& e : logs[r]) {
      ++stored;
      EXPECT_EQ(e.signal_type(), kReceiver) << r << ": " << Describe(e);
      receiver_copy[{e.from().user(), e.id()}] = &e;
      conv[e.from().user()].push_back(e.user_offset());
      auto it = acked.find({e.from().user(), e.id()});
      if (it == acked.end() || it->second->receiver != r) {
        if (++unacked_stored <= 10) ADD_FAILURE() << r << ": stored but never acknowledged to it: " << Describe(e);
      }
    }
    for (const auto& [sender, offsets] : conv) {
      for (size_t i = 0; i < offsets.size(); ++i) {
        if (offsets[i] != static_cast<int32_t>(i + 1)) {
          ADD_FAILURE() << "conversation " << sender << "-" << r << ": message " << i + 1
                        << " in log order has user_offset " << offsets[i];
          break;
        }
      }
    }
  }
  for (const auto& [key, rec] : acked) {
    if (receiver_copy.count(key) == 0 && ++missing <= 10) {
      ADD_FAILURE() << "acknowledged " << key.first << "/" << key.second << " (" << Describe(rec->ack)
                    << ") is not in " << rec->receiver << "'s log";
    }
  }
  EXPECT_EQ(missing, 0u) << "acknowledged ids missing from their receiver's log";
  EXPECT_EQ(unacked_stored, 0u);
  EXPECT_EQ(stored, acked.size());

  // Senders: one DEVICE copy per acknowledged id, at the offsets its ack
  // named, with the user_offset of the receiver's copy.
  size_t device_copies = 0, ack_mismatch = 0;
  for (const auto& s : kSenders) {
    for (const auto& e : logs[s]) {
      ++device_copies;
      EXPECT_EQ(e.signal_type(), kDevice) << s << ": " << Describe(e);
      auto it = acked.find({s, e.id()});
      if (it == acked.end()) {
        ADD_FAILURE() << s << ": DEVICE copy of an id never acknowledged: " << Describe(e);
        continue;
      }
      const auto& ack = it->second->ack;
      auto peer = receiver_copy.find({s, e.id()});
      if ((e.signal_offset() != ack.signal_offset() || e.user_offset() != ack.user_offset() ||
           (peer != receiver_copy.end() && peer->second->user_offset() != e.user_offset())) &&
          ++ack_mismatch <= 10) {
        ADD_FAILURE() << s << ": stored " << Describe(e) << " but acknowledged " << Describe(ack);
      }
    }
  }
  EXPECT_EQ(device_copies, acked.size()) << "DEVICE copies vs acknowledged ids";
  EXPECT_EQ(ack_mismatch, 0u);

  // Every receiver device got every acknowledged message (live or pulled),
  // at the offset where it is stored.
  size_t not_received = 0;
  for (auto& r : receivers) {
    std::map<std::pair<std::string, std::string>, int32_t> got;
    for (const auto& [offset, m] : r->held()) got[{m.from().user(), m.id()}] = offset;
    for (const auto& [key, rec] : acked) {
      if (rec->receiver != r->user()) continue;
      auto it = got.find(key);
      auto stored_it = receiver_copy.find(key);
      if (it == got.end()) {
        if (++not_received <= 10) ADD_FAILURE() << r->user() << " never received " << key.first << "/" << key.second;
      } else if (stored_it != receiver_copy.end() && stored_it->second->signal_offset() != it->second) {
        ADD_FAILURE() << r->user() << " received " << key.second << " at offset " << it->second
                      << " but it is stored at " << stored_it->second->signal_offset();
      }
    }
  }
  EXPECT_EQ(not_received, 0u) << "acknowledged messages a receiver device never got";

  // No receiver saw an entry that a crash took back: whatever a device got
  // (live or pulled) is what the store holds at that offset.
  size_t taken_back = 0;
  for (auto& r : receivers) {
    const auto& log = logs[r->user()];
    for (const auto& [offset, m] : r->held()) {
      const bool same = offset >= 1 && static_cast<size_t>(offset) <= log.size() &&
                        log[offset - 1].id() == m.id() &&
                        log[offset - 1].from().user() == m.from().user();
      if (!same && ++taken_back <= 10) {
        ADD_FAILURE() << r->user() << " received " << Describe(m) << " but offset " << offset
                      << " of its log holds "
                      << (static_cast<size_t>(offset) <= log.size() && offset >= 1
                              ? Describe(log[offset - 1])
                              : std::string("nothing"));
      }
    }
  }
  EXPECT_EQ(taken_back, 0u) << "entries delivered and then taken back by a crash";

  // ---- the numbers ----
  uint64_t sends = 0, retries = 0, repeat_acks = 0, retries_after_stored = 0, transient = 0;
  for (auto& s : senders) {
    sends += s->sends();
    retries += s->retries();
    repeat_acks += s->repeat_acks();
    transient += s->transient_errors();
    for (const auto& [id, rec] : s->records()) {
      auto it = receiver_copy.find({s->user(), id});
      if (it == receiver_copy.end()) continue;
      const int64_t accepted = it->second->server_timestamp();
      for (int64_t t : rec.send_ms) retries_after_stored += t > accepted ? 1 : 0;
    }
  }
  uint64_t live = 0, pulled = 0, redelivered = 0;
  for (auto& r : receivers) {
    live += r->live();
    pulled += r->pulled();
    redelivered += r->redelivered();
  }
  const auto total_ms = std::chrono::duration_cast<milliseconds>(Clock::now() - started).count();
  std::printf(
      "[crash] sync=%s seed=%llu kills=%d (with unacknowledged messages in flight: %d) chaos=%lld ms "
      "total=%lld ms\n"
      "[crash] acked=%zu stored=%zu (receiver copies) device_copies=%zu\n"
      "[crash] publishes=%llu retries=%llu duplicates_suppressed=%llu (resends of an id already "
      "stored, answered with the original ack) repeat_acks=%llu transient_errors=%llu\n"
      "[crash] receivers: live=%llu pulled=%llu redelivered_and_dropped=%llu\n"
      "[crash] lost=%zu duplicated=%zu gaps=%zu taken_back=%zu\n",
      GetParam(), static_cast<unsigned long long>(seed), kills, kills_with_unacked,
      static_cast<long long>(chaos_ms), static_cast<long long>(total_ms), acked.size(), stored,
      device_copies, static_cast<unsigned long long>(sends),
      static_cast<unsigned long long>(retries), static_cast<unsigned long long>(retries_after_stored),
      static_cast<unsigned long long>(repeat_acks), static_cast<unsigned long long>(transient),
      static_cast<unsigned long long>(live), static_cast<unsigned long long>(pulled),
      static_cast<unsigned long long>(redelivered), missing, duplicates, gap_or_reuse,
      taken_back);
  std::fflush(stdout);
  RecordProperty("seed", std::to_string(seed));
  RecordProperty("kills", kills);
  RecordProperty("acked", static_cast<int>(acked.size()));
  RecordProperty("retries", static_cast<int>(retries));
  EXPECT_GE(kills, 10);
  EXPECT_GT(retries, 0u) << "no message needed a retry: the kills hit no traffic";
  EXPECT_GE(kills_with_unacked, kKills / 2) << "most kills should hit messages in flight";
}

INSTANTIATE_TEST_SUITE_P(SyncModes, CrashTest, ::testing::Values("full", "os"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
}  // namespace courier::it
