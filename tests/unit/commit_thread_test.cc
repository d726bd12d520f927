// The plugin's arrangement of threads, without a broker: OnPublish runs on
// this thread (the broker thread in the plugin) while a ThreadedStore
// commits and its finish hook runs OnCompletion on the worker, putting the
// publishes into an Outbox. Nothing may be lost, repeated or reordered, and
// a counter that both threads increment must add up.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "admin.h"
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

class CommitThreadTest : public ::testing::Test {
 protected:
  CommitThreadTest() : engine_(Options(), &stats_) {
    storage::LmdbOptions o;
    o.path = dir_.Sub("db");
    o.map_size_mb = 16;
    o.sync = storage::SyncMode::kOs;
    std::unique_ptr<storage::LmdbStore> lmdb;
    EXPECT_TRUE(storage::LmdbStore::Open(o, &lmdb).ok());
    store_ = std::make_unique<storage::ThreadedStore>(
        std::move(lmdb), [] {}, 16,
        [this](std::vector<storage::Completion>& batch) {
          plugin::Outbox::Contents out;
          for (auto& c : batch) {
            for (auto& p : engine_.OnCompletion(c)) out.publishes.push_back(std::move(p));
          }
          outbox_.Put(std::move(out));
        });
  }

  static core::CoreOptions Options() {
    core::CoreOptions o;
    o.admin_users = {"admin"};
    return o;
  }

  // OnPublish (or OnControl) on this thread; requests to the store, immediate publishes kept.
  void Inbound(const std::string& topic, const std::string& payload, const std::string& user,
               const std::string& client) {
    const core::Inbound in{.topic = topic, .payload = payload, .user = user, .client_id = client, .now_ms = ++now_};
    core::Decision d = topic == core::kAdminTopic ? engine_.OnControl(in) : engine_.OnPublish(in);
    for (auto& p : d.publish) immediate_.push_back(std::move(p));
    for (auto& r : d.requests) {
      store_->Submit(std::move(r));
      ++submitted_;
    }
  }

  // Collects completions until every submitted request has one, or 20 s passed.
  void WaitForAll() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (collected_ < submitted_ && std::chrono::steady_clock::now() < deadline) {
      for (const auto& c : store_->Flush()) {
        EXPECT_TRUE(c.status.ok()) << c.status.ToString();
        EXPECT_TRUE(std::holds_alternative<std::monostate>(c.result)) << "the worker keeps results";
        ++collected_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(collected_, submitted_);
  }

  courier::testing::TempDir dir_;
  core::Stats stats_;
  const core::Engine engine_;
  plugin::Outbox outbox_;
  std::unique_ptr<storage::ThreadedStore> store_;  // last: its worker uses the members above
  std::vector<core::Publish> immediate_;
  size_t submitted_ = 0, collected_ = 0;
  int64_t now_ = 1'700'000'000'000;
};

TEST_F(CommitThreadTest, PublishesBuiltOnTheWorkerArriveInOrderAndCountersAddUp) {
  Inbound(std::string(core::kAdminTopic),
          R"({"commands":[{"command":"createGroup","group":"g1","members":["alice","bob","carol"]}]})", "admin",
          "console");
  WaitForAll();
  outbox_.Take();

  constexpr int kMessages = 600;
  int direct = 0, group = 0;  // transient messages: relayed on this thread / on the worker
  std::vector<core::Publish> sent;
  for (int i = 0; i < kMessages; ++i) {
    Inbound("msg/alice/send", Msg("m" + std::to_string(i), "bob", "hi").SerializeAsString(), "alice", "alice-phone");
    Message t = Msg("t" + std::to_string(i), "bob", "typing");
    t.set_transient(true);
    if (i % 2 == 0) {
      ++direct;
    } else {
      t.mutable_to()->clear_user();
      t.mutable_to()->set_group("g1");
      ++group;
    }
    Inbound("msg/alice/send", t.SerializeAsString(), "alice", "alice-phone");
    if (i % 50 == 0) {
      for (auto& p : outbox_.Take().publishes) sent.push_back(std::move(p));
    }
  }
  WaitForAll();
  for (auto& p : outbox_.Take().publishes) sent.push_back(std::move(p));

  // Stored messages: bob's RECEIVER copy, alice's DEVICE copy, the SENDER ack,
  // in submission order with increasing offsets.
  std::vector<Message> receiver, device;
  int acks = 0, group_copies = 0;
  for (const auto& p : sent) {
    if (p.topic == "msg/alice/events") {
      ++acks;  // SENDER acks and the group transients' acks
      continue;
    }
    const Message m = AsMessage(p);
    if (m.transient()) {
      ++group_copies;
    } else if (p.topic == "msg/bob/inbox") {
      receiver.push_back(m);
    } else if (p.topic == "msg/alice/inbox") {
      device.push_back(m);
    }
  }
  ASSERT_EQ(receiver.size(), static_cast<size_t>(kMessages));
  ASSERT_EQ(device.size(), static_cast<size_t>(kMessages));
  for (int i = 0; i < kMessages; ++i) {
    EXPECT_EQ(receiver[i].id(), "m" + std::to_string(i));
    EXPECT_EQ(receiver[i].signal_offset(), i + 1);
    EXPECT_EQ(device[i].signal_offset(), i + 1);
  }
  EXPECT_EQ(acks, kMessages + group);
  EXPECT_EQ(group_copies, 2 * group) << "bob and carol";
  EXPECT_EQ(immediate_.size(), 2u * direct) << "bob's copy and alice's ack of each direct transient";

  EXPECT_EQ(stats_.accepted.load(), static_cast<uint64_t>(kMessages));
  EXPECT_EQ(stats_.relayed.load(), static_cast<uint64_t>(direct + group)) << "counted on both threads";
}

}  // namespace
}  // namespace courier
