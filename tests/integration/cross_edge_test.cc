// Cross-edge delivery (docs/scale-out.md): two brokers ("edges") with the
// plugin on one PostgreSQL database, alice's and bob's devices spread over
// both. What one edge stores reaches the devices on the other through a
// hint after the commit, or, with hints off, through the other edge's
// catch-up pull within plugin_opt_edge_catchup_ms.
//
// The PostgreSQL server is proc::SharedPostgres (COURIER_IT_PG, else one
// started by the test process); each test makes one database there for
// both edges and drops it.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "proc/shared_postgres.h"
#include "support/admin_client.h"
#include "support/broker.h"
#include "support/device.h"
#include "support/fixture.h"
#include "support/wire.h"

namespace courier::it {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// The server's conninfo without dbname; "" (and a test failure) without one.
std::string PgServer() {
  std::string error;
  std::string conninfo = proc::SharedPostgres(&error);
  EXPECT_EQ(error, "");
  return conninfo;
}

// One statement on the server's postgres database; "" or the error.
std::string PgExec(const std::string& sql) {
  PGconn* c = PQconnectdb((PgServer() + " dbname=postgres").c_str());
  std::string err;
  if (PQstatus(c) != CONNECTION_OK) {
    err = PQerrorMessage(c);
  } else {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) err = PQerrorMessage(c);
    PQclear(r);
  }
  PQfinish(c);
  return err;
}

v1::Message GroupMsg(const std::string& id, const std::string& group, const std::string& payload) {
  v1::Message m = NewMessage(id, "", payload);
  m.mutable_to()->clear_user();
  m.mutable_to()->set_group(group);
  return m;
}

class CrossEdgeTest : public ::testing::Test {
 protected:
  // Options of both edges beyond the store's.
  virtual std::vector<std::pair<std::string, std::string>> EdgeOptions() const { return {}; }

  void SetUp() override {
    ASSERT_NE(PgServer(), "") << "no PostgreSQL server";
    std::random_device rd;
    db_ = "courier_xe_" + std::to_string(rd()) + std::to_string(rd());
    ASSERT_EQ(PgExec("CREATE DATABASE " + db_), "");
    for (auto* edge : {&a_, &b_}) {
      BrokerOptions o;
      o.plugin_opts = {{"store", "postgres"}, {"pg_conninfo", PgServer() + " dbname=" + db_}, {"admin_users", "admin"}};
      for (const auto& kv : EdgeOptions()) o.plugin_opts.push_back(kv);
      *edge = std::make_unique<Broker>(o);
      ASSERT_TRUE((*edge)->Start());
    }
  }

  void TearDown() override {
    devices_.clear();
    admin_.reset();
    a_.reset();
    b_.reset();
    if (!db_.empty()) PgExec("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)");
  }

  CourierDevice* On(Broker& edge, const std::string& user, const std::string& device) {
    devices_.push_back(std::make_unique<CourierDevice>(edge.port(), user, device));
    auto r = devices_.back()->Connect();
    if (!r) {
      ADD_FAILURE() << user << "/" << device << ": " << r.message();
      return nullptr;
    }
    return devices_.back().get();
  }

  AdminClient* Admin(Broker& edge) {
    admin_ = std::make_unique<AdminClient>(edge.port(), "admin", "admin-cli");
    if (auto r = admin_->Connect(); !r) {
      ADD_FAILURE() << r.message();
      return nullptr;
    }
    return admin_.get();
  }

  // alice: a1 on A, a2 on B; bob: b1 on A, b2 on B. Waits a moment so that
  // both edges follow both users (their heads are read) before a test sends.
  bool Spread() {
    a1_ = On(*a_, "alice", "a1");
    a2_ = On(*b_, "alice", "a2");
    b1_ = On(*a_, "bob", "b1");
    b2_ = On(*b_, "bob", "b2");
    std::this_thread::sleep_for(milliseconds(200));
    return a1_ && a2_ && b1_ && b2_;
  }

  std::string db_;
  std::unique_ptr<Broker> a_, b_;
  std::vector<std::unique_ptr<CourierDevice>> devices_;
  std::unique_ptr<AdminClient> admin_;
  CourierDevice *a1_ = nullptr, *a2_ = nullptr, *b1_ = nullptr, *b2_ = nullptr;
};

TEST_F(CrossEdgeTest, CopiesAndAcksReachDevicesOnBothEdges) {
  ASSERT_TRUE(Spread());
  auto ack = SendAndWaitAck(*a1_, NewMessage("m1", "bob", "hi bob"));
  ASSERT_TRUE(ack) << a1_->Pending();
  EXPECT_EQ(ack->signal_offset(), 1);
  for (auto* d : {b1_, b2_}) {
    auto copy = d->NextInbox(WithId("m1"));
    ASSERT_TRUE(copy) << d->device() << ":\n" << d->Pending();
    EXPECT_EQ(copy->signal_type(), kReceiver);
    EXPECT_EQ(copy->signal_offset(), 1);
    EXPECT_EQ(copy->payload(), "hi bob");
  }
  auto device_copy = a2_->NextInbox(WithId("m1"));
  ASSERT_TRUE(device_copy) << a2_->Pending();
  EXPECT_EQ(device_copy->signal_type(), kDevice);
  EXPECT_TRUE(a2_->NextEvent(SenderAckFor("m1"))) << a2_->Pending();
  // Exactly once each, also after catch-ups have run.
  std::this_thread::sleep_for(milliseconds(1500));
  for (auto* d : {b1_, b2_, a2_}) {
    for (const auto& m : d->DrainInbox()) ADD_FAILURE() << d->device() << " again: " << Describe(m);
  }
}

TEST_F(CrossEdgeTest, ReceiptsUpToReadReachTheSenderOnTheOtherEdge) {
  ASSERT_TRUE(Spread());
  ASSERT_TRUE(SendAndWaitAck(*a1_, NewMessage("m1", "bob", "hi")));
  ASSERT_TRUE(b2_->NextInbox(WithId("m1"))) << b2_->Pending();
  v1::Signal received = Receipt(1, true, false);
  received.set_id("m1");
  ASSERT_TRUE(b2_->Signal(received));
  for (auto* d : {a1_, a2_}) {
    auto n = d->NextEvent(NoticeFor("m1", kReceiver));
    ASSERT_TRUE(n) << d->device() << ":\n" << d->Pending();
    EXPECT_TRUE(n->signal_ack_state().received());
  }
  v1::Signal read = Receipt(1, true, true);
  read.set_id("m1");
  ASSERT_TRUE(b2_->Signal(read));
  for (auto* d : {a1_, a2_}) {
    auto n = d->NextEvent(NoticeFor("m1", kReceiver));
    ASSERT_TRUE(n) << d->device() << ":\n" << d->Pending();
    EXPECT_TRUE(n->signal_ack_state().read());
  }
  // bob's device on the other edge hears that b2 read it.
  bool b1_saw_read = false;
  while (auto n = b1_->NextEvent(NoticeFor("m1", kDevice))) {
    if (n->signal_ack_state().read()) {
      b1_saw_read = true;
      break;
    }
  }
  EXPECT_TRUE(b1_saw_read) << b1_->Pending();
}

TEST_F(CrossEdgeTest, TypingReachesTheOtherEdge) {
  ASSERT_TRUE(Spread());
  ASSERT_TRUE(b2_->Signal(Activity("alice", 4)));
  for (auto* d : {a1_, a2_}) {
    auto typing = d->NextEvent([](const v1::Signal& s) { return s.status() == 4; });
    ASSERT_TRUE(typing) << d->device() << ":\n" << d->Pending();
    EXPECT_EQ(typing->from().user(), "bob");
  }
}

TEST_F(CrossEdgeTest, ResendThroughTheOtherEdgeGetsTheOriginalAckAndNoSecondCopy) {
  ASSERT_TRUE(Spread());
  auto first = SendAndWaitAck(*a1_, NewMessage("m1", "bob", "once"));
  ASSERT_TRUE(first) << a1_->Pending();
  ASSERT_TRUE(b2_->NextInbox(WithId("m1")));
  ASSERT_TRUE(b1_->NextInbox(WithId("m1")));
  auto again = SendAndWaitAck(*a2_, NewMessage("m1", "bob", "once"));
  ASSERT_TRUE(again) << a2_->Pending();
  EXPECT_EQ(again->signal_offset(), first->signal_offset());
  EXPECT_EQ(again->user_offset(), first->user_offset());
  std::this_thread::sleep_for(milliseconds(1500));
  for (auto* d : {b1_, b2_}) {
    for (const auto& m : d->DrainInbox()) ADD_FAILURE() << d->device() << " got a second copy: " << Describe(m);
  }
}

TEST_F(CrossEdgeTest, GroupMembersOnBothEdgesGetTheirCopies) {
  auto* admin = Admin(*a_);
  ASSERT_TRUE(admin);
  ASSERT_TRUE(admin->CreateGroup("g1", {"alice", "bob", "carol"}));
  ASSERT_TRUE(Spread());
  auto* c1 = On(*b_, "carol", "c1");
  ASSERT_TRUE(c1);
  std::this_thread::sleep_for(milliseconds(200));
  ASSERT_TRUE(SendAndWaitAck(*a1_, GroupMsg("g-1", "g1", "to all")));
  for (auto* d : {b1_, b2_, c1}) {
    auto copy = d->NextInbox(WithId("g-1"));
    ASSERT_TRUE(copy) << d->device() << ":\n" << d->Pending();
    EXPECT_EQ(copy->signal_type(), kReceiver);
    EXPECT_EQ(copy->to().group(), "g1");
  }
  ASSERT_TRUE(a2_->NextInbox(WithId("g-1"))) << a2_->Pending();
}

TEST_F(CrossEdgeTest, KilledHintConnectionsOnlyDelayUntilCatchUp) {
  ASSERT_TRUE(Spread());
  ASSERT_TRUE(SendAndWaitAck(*a1_, NewMessage("m1", "bob", "before")));
  ASSERT_TRUE(b2_->NextInbox(WithId("m1"))) << b2_->Pending();
  // Both edges' hint connections (the only sessions that LISTEN) go.
  ASSERT_EQ(PgExec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + db_ +
                   "' AND (query LIKE 'LISTEN%' OR query LIKE 'SELECT pg_notify%')"),
            "");
  ASSERT_TRUE(SendAndWaitAck(*a1_, NewMessage("m2", "bob", "during")));
  auto copy = b2_->NextInbox(WithId("m2"), milliseconds(3000));  // hint or catch-up (1 s)
  ASSERT_TRUE(copy) << b2_->Pending();
  EXPECT_EQ(copy->signal_offset(), 2);
  std::this_thread::sleep_for(milliseconds(500));  // the buses reconnect after 100 ms
  ASSERT_TRUE(SendAndWaitAck(*a1_, NewMessage("m3", "bob", "after")));
  EXPECT_TRUE(b2_->NextInbox(WithId("m3"))) << b2_->Pending();
  ASSERT_TRUE(b2_->Signal(Activity("alice", 4)));
  EXPECT_TRUE(a1_->NextEvent([](const v1::Signal& s) { return s.status() == 4; })) << "hints flow again";
  for (const auto& m : b2_->DrainInbox()) ADD_FAILURE() << "again: " << Describe(m);
}

// Hints off: delivery across edges rests on catch-up alone.
class CrossEdgeCatchUpTest : public CrossEdgeTest {
 protected:
  std::vector<std::pair<std::string, std::string>> EdgeOptions() const override {
    return {{"edge_hints", "false"}, {"edge_catchup_ms", "300"}};
  }
};

TEST_F(CrossEdgeCatchUpTest, LostHintsAreCaughtUpWithinTheInterval) {
  ASSERT_TRUE(Spread());
  for (int i = 1; i <= 3; ++i) {
    const std::string id = "m" + std::to_string(i);
    const auto start = steady_clock::now();
    ASSERT_TRUE(SendAndWaitAck(*a1_, NewMessage(id, "bob", "late " + id)));
    auto copy = b2_->NextInbox(WithId(id));
    const auto waited = std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
    ASSERT_TRUE(copy) << b2_->Pending();
    EXPECT_EQ(copy->signal_offset(), i);
    EXPECT_EQ(copy->signal_type(), kReceiver);
    EXPECT_LT(waited, milliseconds(300 + 400)) << "catch-up interval plus a commit and a round";
    std::printf("catch-up delivery of %s after %lld ms\n", id.c_str(), static_cast<long long>(waited.count()));
    auto device_copy = a2_->NextInbox(WithId(id));
    ASSERT_TRUE(device_copy) << a2_->Pending();
    EXPECT_EQ(device_copy->signal_type(), kDevice);
  }
  std::this_thread::sleep_for(milliseconds(700));
  for (auto* d : {b2_, a2_}) {
    for (const auto& m : d->DrainInbox()) ADD_FAILURE() << d->device() << " again: " << Describe(m);
  }
}

// Latency of a delivery to a device on the sender's edge and on the other
// one (printed; the bound is loose, for slow CI machines).
TEST_F(CrossEdgeTest, CrossEdgeLatencyIsCloseToSameEdge) {
  ASSERT_TRUE(Spread());
  std::vector<double> same, cross;
  for (int i = 0; i < 20; ++i) {
    const std::string id = "l" + std::to_string(i);
    const auto start = steady_clock::now();
    ASSERT_TRUE(a1_->Send(NewMessage(id, "bob", "x")));
    ASSERT_TRUE(b1_->NextInbox(WithId(id)));
    same.push_back(std::chrono::duration<double, std::milli>(steady_clock::now() - start).count());
    ASSERT_TRUE(b2_->NextInbox(WithId(id)));
    cross.push_back(std::chrono::duration<double, std::milli>(steady_clock::now() - start).count());
  }
  std::sort(same.begin(), same.end());
  std::sort(cross.begin(), cross.end());
  std::printf("same-edge median %.2f ms p90 %.2f ms; cross-edge median %.2f ms p90 %.2f ms\n", same[10], same[18],
              cross[10], cross[18]);
  // A hinted publish wakes the other broker at once: not after its 100 ms
  // epoll timeout.
  EXPECT_LT(cross[10], same[10] + 50.0);
}

}  // namespace
}  // namespace courier::it
