// The plugin's arrangement of threads, without a broker: OnPublish runs on
// this thread (the broker thread in the plugin) while a ThreadedStore
// commits and its finish hook runs OnCompletion on the worker, putting the
// publishes into an Outbox. Nothing may be lost, repeated or reordered, and
// the counters written from both threads must add up.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "engine.h"
#include "lmdb_store.h"
#include "outbox.h"
#include "test_util.h"
#include "threaded_store.h"

namespace courier {
namespace {

using courier::testing::AsMessage;
using courier::testing::AsSignal;
using courier::testing::Msg;
using courier::v1::Message;

TEST(CommitThreadTest, PublishesBuiltOnTheWorkerArriveInOrderAndCountersAddUp) {
  courier::testing::TempDir dir;
  storage::LmdbOptions o;
  o.path = dir.Sub("db");
  o.map_size_mb = 16;
  o.sync = storage::SyncMode::kOs;
  std::unique_ptr<storage::LmdbStore> lmdb;
  ASSERT_TRUE(storage::LmdbStore::Open(o, &lmdb).ok());

  core::Stats stats;
  const core::Engine engine(core::CoreOptions{}, &stats);
  plugin::Outbox outbox;
  storage::ThreadedStore store(std::move(lmdb), [] {}, 16, [&](std::vector<storage::Completion>& batch) {
    plugin::Outbox::Contents out;
    for (auto& c : batch) {
      for (auto& p : engine.OnCompletion(c)) out.publishes.push_back(std::move(p));
    }
    outbox.Put(std::move(out));
  });

  constexpr int kMessages = 600;
  int bad = 0;
  std::vector<core::Publish> immediate, sent;
  int64_t now = 1'700'000'000'000;
  for (int i = 0; i < kMessages; ++i) {
    const std::string payload = Msg("m" + std::to_string(i), "bob", "hi").SerializeAsString();
    core::Decision d = engine.OnPublish(
        core::Inbound{.topic = "msg/alice/send", .payload = payload, .user = "alice", .client_id = "alice-phone", .now_ms = ++now});
    ASSERT_EQ(d.requests.size(), 1u);
    for (auto& r : d.requests) store.Submit(std::move(r));
    if (i % 3 == 0) {  // an error counted on this thread while the worker counts
      d = engine.OnPublish(
          core::Inbound{.topic = "msg/alice/send", .payload = "\xff", .user = "alice", .client_id = "alice-phone", .now_ms = now});
      ++bad;
      for (auto& p : d.publish) immediate.push_back(std::move(p));
    }
    if (i % 50 == 0) {
      for (auto& p : outbox.Take().publishes) sent.push_back(std::move(p));
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  size_t collected = 0;
  while (collected < kMessages && std::chrono::steady_clock::now() < deadline) {
    for (const auto& c : store.Flush()) {
      EXPECT_TRUE(c.status.ok()) << c.status.ToString();
      ++collected;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(collected, static_cast<size_t>(kMessages));
  for (auto& p : outbox.Take().publishes) sent.push_back(std::move(p));

  // Per message: bob's RECEIVER copy, alice's DEVICE copy, the SENDER ack.
  ASSERT_EQ(sent.size(), 3u * kMessages);
  for (int i = 0; i < kMessages; ++i) {
    const Message receiver = AsMessage(sent[3 * i]);
    EXPECT_EQ(sent[3 * i].topic, "msg/bob/inbox");
    EXPECT_EQ(receiver.id(), "m" + std::to_string(i));
    EXPECT_EQ(receiver.signal_offset(), i + 1);
    EXPECT_EQ(sent[3 * i + 1].topic, "msg/alice/inbox");
    EXPECT_EQ(AsMessage(sent[3 * i + 1]).signal_offset(), i + 1);
    EXPECT_EQ(sent[3 * i + 2].topic, "msg/alice/events");
    EXPECT_EQ(AsSignal(sent[3 * i + 2]).id(), "m" + std::to_string(i));
  }
  EXPECT_EQ(immediate.size(), static_cast<size_t>(bad));
  EXPECT_EQ(stats.accepted.load(), static_cast<uint64_t>(kMessages));
  EXPECT_EQ(stats.deliveries.load(), 2u * kMessages);
  EXPECT_EQ(stats.errors[static_cast<size_t>(core::ErrorCode::kBadPayload)].load(), static_cast<uint64_t>(bad));
}

}  // namespace
}  // namespace courier
