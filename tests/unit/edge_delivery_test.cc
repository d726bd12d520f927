// plugin/edge_delivery.h with core/edge_relay.h: two edges, each with its
// own Engine, Outbox and EdgeDelivery, sharing one store (an LmdbStore
// stands in for the shared database) and an in-process hint bus that can
// lose hints. Each step drives an edge as its shell would: OnPublish, the
// store's batch, FinishBatch (Catch, OnCompletion, Made), Ship, and the
// tick's catch-up pulls. No broker, no PostgreSQL.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include "edge_delivery.h"
#include "lmdb_store.h"
#include "test_util.h"

namespace courier::plugin {
namespace {

using core::Publish;
using courier::testing::AsMessage;
using courier::testing::AsSignal;
using courier::testing::Msg;

constexpr int64_t kT0 = 1'700'000'000'000;

// Every bus's notifications reach every bus (its own included) at Pump(),
// unless the network is down, which loses them.
struct Network {
  struct Bus final : storage::HintBus {
    Network* net;
    Deliver deliver;
    void Send(std::vector<std::string> n) override {
      if (net->up) {
        for (auto& x : n) net->queued.push_back(x);
      }
    }
  };
  void Pump() {
    auto q = std::move(queued);
    queued.clear();
    for (Bus* b : buses) b->deliver(q);
  }
  EdgeDelivery::MakeBus Maker() {
    return [this](storage::HintBus::Deliver d, storage::HintBus::Log) {
      auto b = std::make_unique<Bus>();
      b->net = this;
      b->deliver = std::move(d);
      buses.push_back(b.get());
      return b;
    };
  }
  bool up = true;
  std::vector<std::string> queued;
  std::vector<Bus*> buses;
};

struct Edge {
  Edge(Network* net, std::string id)
      : delivery(engine, EdgeOptions{.catchup_ms = 1000, .hints = true}, std::move(id), &outbox, {}, net->Maker()) {}
  core::Engine engine{core::CoreOptions{}};
  Outbox outbox;
  EdgeDelivery delivery;
};

class EdgeDeliveryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::LmdbOptions o;
    o.path = dir_.Sub("db");
    o.sync = storage::SyncMode::kOs;
    ASSERT_TRUE(storage::LmdbStore::Open(o, &store_).ok());
  }

  // One store batch of `requests` on `edge`, finished as Shell::FinishBatch does.
  std::vector<Publish> Commit(Edge& edge, std::vector<storage::Request> requests) {
    for (auto& r : requests) store_->Submit(std::move(r));
    std::vector<Publish> out;
    for (const auto& done : store_->Flush()) {
      if (edge.delivery.Catch(done, now_, &out)) continue;
      auto pubs = edge.engine.OnCompletion(done);
      edge.delivery.Made(pubs);
      out.insert(out.end(), pubs.begin(), pubs.end());
    }
    edge.delivery.Ship();
    return out;
  }
  // An inbound publish on `edge`: what that edge publishes.
  std::vector<Publish> In(Edge& edge, const std::string& user, const std::string& kind, const std::string& payload) {
    core::Decision d = edge.engine.OnPublish(core::Inbound{.topic = "msg/" + user + "/" + kind,
                                                           .payload = payload,
                                                           .user = user,
                                                           .client_id = user + "-dev",
                                                           .now_ms = now_});
    edge.delivery.Made(d.publish);
    auto out = Commit(edge, std::move(d.requests));
    out.insert(out.begin(), d.publish.begin(), d.publish.end());
    edge.delivery.Ship();
    return out;
  }
  // A tick on `edge`: the catch-up pulls due, committed.
  std::vector<Publish> Tick(Edge& edge) {
    std::vector<storage::Request> reqs;
    for (auto& r : edge.delivery.Due(now_)) reqs.emplace_back(std::move(r));
    return Commit(edge, std::move(reqs));
  }
  // What hints brought to `edge` since the last call.
  std::vector<Publish> Hinted(Edge& edge) {
    net_.Pump();
    return edge.outbox.Take().publishes;
  }
  // bob present on B, alice on A, heads read.
  void Connect() {
    a_.delivery.Present("alice", now_);
    b_.delivery.Present("bob", now_);
    Tick(a_);
    Tick(b_);
  }

  courier::testing::TempDir dir_;
  std::unique_ptr<storage::LmdbStore> store_;
  Network net_;
  Edge a_{&net_, "edge-a"};
  Edge b_{&net_, "edge-b"};
  int64_t now_ = kT0;
};

std::vector<Publish> On(const std::vector<Publish>& ps, const std::string& topic) {
  std::vector<Publish> out;
  std::copy_if(ps.begin(), ps.end(), std::back_inserter(out), [&](const Publish& p) { return p.topic == topic; });
  return out;
}

TEST_F(EdgeDeliveryTest, HintBringsTheCopyToTheOtherEdgeOnce) {
  Connect();
  auto own = In(a_, "alice", "send", Msg("m1", "bob", "hi").SerializeAsString());
  EXPECT_EQ(On(own, "msg/bob/inbox").size(), 1u);  // published on A too (nobody there)
  auto got = Hinted(b_);
  auto copies = On(got, "msg/bob/inbox");
  ASSERT_EQ(copies.size(), 1u);
  EXPECT_EQ(AsMessage(copies[0]).payload(), "hi");
  EXPECT_EQ(AsMessage(copies[0]).signal_type(), 3);
  EXPECT_EQ(copies[0].log_offset, 1);
  EXPECT_TRUE(On(got, "msg/alice/events").empty()) << "alice has no device on B";
  EXPECT_TRUE(Hinted(a_).empty()) << "A skips its own hints";
  now_ += 1000;
  EXPECT_TRUE(Tick(b_).empty()) << "catch-up does not publish it again";
}

TEST_F(EdgeDeliveryTest, LostHintIsCaughtUpWithinTheInterval) {
  Connect();
  net_.up = false;
  In(a_, "alice", "send", Msg("m1", "bob", "one").SerializeAsString());
  In(a_, "alice", "send", Msg("m2", "bob", "two").SerializeAsString());
  EXPECT_TRUE(Hinted(b_).empty());
  now_ += 999;
  EXPECT_TRUE(Tick(b_).empty());
  now_ += 1;
  auto caught = On(Tick(b_), "msg/bob/inbox");
  ASSERT_EQ(caught.size(), 2u);
  EXPECT_EQ(AsMessage(caught[0]).payload(), "one");
  EXPECT_EQ(AsMessage(caught[1]).payload(), "two");
  EXPECT_EQ(AsMessage(caught[1]).signal_offset(), 2);
  EXPECT_EQ(AsMessage(caught[1]).signal_request(), 0) << "a live copy, not a pull answer";
  now_ += 1000;
  EXPECT_TRUE(Tick(b_).empty());
}

TEST_F(EdgeDeliveryTest, ReceiptsAndActivityReachTheOtherEdge) {
  Connect();
  In(a_, "alice", "send", Msg("m1", "bob", "hi").SerializeAsString());
  Hinted(b_);
  In(b_, "bob", "signal", courier::testing::Receipt("m1", 1, true).SerializeAsString());
  auto notices = On(Hinted(a_), "msg/alice/events");
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_TRUE(AsSignal(notices[0]).signal_ack_state().read());
  v1::Signal typing;
  typing.set_status(4);
  typing.mutable_to()->set_user("alice");
  In(b_, "bob", "signal", typing.SerializeAsString());
  auto live = On(Hinted(a_), "msg/alice/events");
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(AsSignal(live[0]).status(), 4);
}

TEST_F(EdgeDeliveryTest, SendersOtherDeviceOnTheOtherEdgeGetsTheDeviceCopyAndAck) {
  Connect();
  b_.delivery.Present("alice", now_);
  Tick(b_);
  In(a_, "alice", "send", Msg("m1", "bob", "hi").SerializeAsString());
  auto got = Hinted(b_);
  auto device = On(got, "msg/alice/inbox");
  ASSERT_EQ(device.size(), 1u);
  EXPECT_EQ(AsMessage(device[0]).signal_type(), 2);
  EXPECT_EQ(On(got, "msg/alice/events").size(), 1u);  // the SENDER ack
  EXPECT_EQ(On(got, "msg/bob/inbox").size(), 1u);
}

TEST_F(EdgeDeliveryTest, OwnAppendsAreNotCaughtUpAgain) {
  Connect();
  In(b_, "bob", "send", Msg("m1", "alice", "hi").SerializeAsString());  // bob's DEVICE copy, offset 1
  now_ += 1000;
  EXPECT_TRUE(Tick(b_).empty());
  EXPECT_EQ(On(Hinted(a_), "msg/alice/inbox").size(), 1u);
  now_ += 1000;
  EXPECT_TRUE(Tick(a_).empty());
}

// A bus with a thread of its own, as PgHintBus has: what one bus sends is
// delivered to the other buses from their threads.
struct ThreadedHub {
  struct Bus final : storage::HintBus {
    Bus(ThreadedHub* hub, Deliver d) : hub(hub), deliver(std::move(d)), thread([this] { Run(); }) {}
    ~Bus() override {
      {
        std::lock_guard lock(mu);
        stop = true;
      }
      cv.notify_one();
      thread.join();
    }
    void Send(std::vector<std::string> n) override {
      std::lock_guard lock(hub->mu);
      for (Bus* b : hub->buses) {
        if (b == this) continue;
        std::lock_guard inner(b->mu);
        for (const auto& x : n) b->queue.push_back(x);
        b->cv.notify_one();
      }
    }
    void Run() {
      std::unique_lock lock(mu);
      for (;;) {
        cv.wait(lock, [&] { return stop || !queue.empty(); });
        if (stop) return;
        auto batch = std::move(queue);
        queue.clear();
        lock.unlock();
        deliver(std::move(batch));
        lock.lock();
      }
    }
    ThreadedHub* hub;
    Deliver deliver;
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::string> queue;
    bool stop = false;
    std::thread thread;
  };
  EdgeDelivery::MakeBus Maker() {
    return [this](storage::HintBus::Deliver d, storage::HintBus::Log) {
      auto b = std::make_unique<Bus>(this, std::move(d));
      std::lock_guard lock(mu);
      buses.push_back(b.get());
      return b;
    };
  }
  std::mutex mu;
  std::vector<Bus*> buses;
};

// The threads of the plugin at once: a worker making and shipping hints on
// A, B's bus thread receiving them, B's broker thread following users and
// taking the outbox. Under TSan (scripts/test.sh, stage tsan) a race fails it.
TEST(EdgeDeliveryThreads, HintsCrossWhileEveryThreadWorks) {
  ThreadedHub hub;
  core::Engine engine{core::CoreOptions{}};
  Outbox a_out, b_out;
  std::atomic<int> kicks{0};
  EdgeDelivery a(engine, EdgeOptions{}, "edge-a", &a_out, {}, hub.Maker());
  EdgeDelivery b(
      engine, EdgeOptions{}, "edge-b", &b_out, [&] { ++kicks; }, hub.Maker());
  b.Present("bob", kT0);
  constexpr int kMessages = 2000;
  std::thread worker([&] {
    for (int i = 1; i <= kMessages; ++i) {
      v1::Message copy = Msg("m" + std::to_string(i), "bob", "x");
      copy.set_signal_offset(i);
      copy.set_signal_type(3);
      a.Made({engine.LiveCopy("bob", copy)});
      if (i % 10 == 0) a.Ship();
    }
    a.Ship();
  });
  size_t got = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (got < kMessages && std::chrono::steady_clock::now() < end) {
    b.Present("carol", kT0);
    b.Due(kT0);
    got += On(b_out.Take().publishes, "msg/bob/inbox").size();
    b.Absent("carol");
  }
  worker.join();
  EXPECT_EQ(got, size_t{kMessages});
  EXPECT_GT(kicks.load(), 0);
  a.StopBus();
  b.StopBus();
}

}  // namespace
}  // namespace courier::plugin
