// High availability end to end (docs/ha.md): two Courier edges (mosquitto
// with the plugin, plugin_opt_store postgres) share one PostgreSQL run by
// Patroni on loopback (proc/patroni_cluster.h: one etcd, three nodes,
// synchronous mode), reached through the libpq multi-host conninfo.
//
// Two senders (one per edge) send unique ids to two receivers, resending
// every unacknowledged id with the same id until they hold its SENDER ack
// (support/traffic.h), and move to the other edge when theirs is gone.
// Mid-traffic the test kills the primary's machine (Patroni, postmaster and
// backends, SIGKILL), waits for Patroni to promote the synchronous standby,
// keeps sending, then kills one edge with SIGKILL and restarts it. After the
// senders drain and the receivers have pulled everything, it reads the
// database with SQL: every user's log holds offsets 1..head with no gap, every
// acknowledged id is in its sender's log exactly once and nothing else is,
// and each receiver's log holds as many entries as were acknowledged to it;
// each receiver device got every acknowledged message.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "proc/patroni_cluster.h"
#include "proc/pg_client.h"
#include "proc/temp_dir.h"
#include "support/async_device.h"
#include "support/broker.h"
#include "support/traffic.h"

namespace courier::it {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr auto kStartLimit = std::chrono::seconds(120);
constexpr auto kPhaseLimit = std::chrono::seconds(90);
constexpr auto kTrafficBeforeKill = std::chrono::seconds(3);
constexpr auto kTrafficAfterFailover = std::chrono::seconds(3);
constexpr auto kEdgeDown = std::chrono::seconds(2);
constexpr auto kRetryAfter = std::chrono::seconds(2);
constexpr size_t kWindow = 8;
constexpr size_t kPayloadBytes = 64;

const std::vector<std::string> kSenders = {"alice", "carol"};
const std::vector<std::string> kReceivers = {"bob", "frank"};

long long Ms(Clock::duration d) { return std::chrono::duration_cast<milliseconds>(d).count(); }

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(item);
  return out;
}

class HaCourierTest : public ::testing::Test {
 protected:
  // The edges' store is this test's cluster, whatever the harness's
  // COURIER_IT_STORE asks the other tests' brokers for.
  void SetUp() override { ::unsetenv("COURIER_IT_STORE"); }

  void TearDown() override {
    if (!HasFailure()) return;
    if (cluster_) std::fprintf(stderr, "%s\n", cluster_->LogTails(4000).c_str());
    for (auto& e : edges_) {
      const std::string log = e->log();
      std::fprintf(stderr, "----- edge %d -----\n%s\n", e->port(),
                   log.size() > 6000 ? log.substr(log.size() - 6000).c_str() : log.c_str());
    }
  }

  void StartCluster() {
    proc::PatroniOptions o;
    o.keep_dir = proc::KeepRequested("COURIER_IT_KEEP");
    o.parameters = {"fsync: 'off'"};  // processes are killed, not machines
    cluster_ = std::make_unique<proc::PatroniCluster>(3, o);
    std::string error;
    ASSERT_TRUE(cluster_->Start(kStartLimit, &error)) << error;
    ASSERT_TRUE(proc::PgExec(cluster_->Conninfo(), "CREATE DATABASE courier", &error)) << error;
    conninfo_ = cluster_->Conninfo("courier", "connect_timeout=2");
  }

  void StartEdges() {
    for (int i = 0; i < 2; ++i) {
      BrokerOptions options;
      options.extra_config = {"max_queued_messages 1000000"};
      options.plugin_opts = {{"store", "postgres"}, {"pg_conninfo", conninfo_}, {"pg_reconnect_max_ms", "500"}};
      edges_.push_back(std::make_unique<Broker>(options));
      ASSERT_TRUE(edges_.back()->Start());
    }
    std::printf("[ha] edges on ports %d and %d, store %s\n", edges_[0]->port(), edges_[1]->port(), conninfo_.c_str());
  }

  void StartClients() {
    for (const auto& u : kSenders) {
      senders_.push_back(
          std::make_unique<LoadSender>(u, u + "-phone", kReceivers, kWindow, kPayloadBytes, kRetryAfter));
      devices_.push_back(&senders_.back()->device());
    }
    for (const auto& u : kReceivers) {
      receivers_.push_back(std::make_unique<LoadReceiver>(u, u + "-phone"));
      devices_.push_back(&receivers_.back()->device());
    }
  }

  // Client i's edge: i % 2, or the other one while that one is down.
  int PortFor(size_t i) {
    Broker& mine = *edges_[i % 2];
    return mine.running() ? mine.port() : edges_[(i + 1) % 2]->port();
  }
  void Step() {
    for (size_t i = 0; i < senders_.size(); ++i) senders_[i]->Step(PortFor(i));
    for (size_t i = 0; i < receivers_.size(); ++i) receivers_[i]->Step(PortFor(i + 1));
    PumpAll(devices_, milliseconds(2));
  }
  void StepFor(Clock::duration d) {
    for (const auto until = Clock::now() + d; Clock::now() < until;) Step();
  }
  size_t TotalAcked() const {
    size_t n = 0;
    for (auto& s : senders_) n += s->acked();
    return n;
  }

  // Kills the primary mid-traffic, and steps until acks flow again.
  void KillPrimaryUnderLoad() {
    const size_t acked_at_kill = TotalAcked();
    ASSERT_GT(acked_at_kill, 0u) << "no acks before the kill";
    const int primary = cluster_->PrimaryIndex();
    ASSERT_GE(primary, 0);
    std::string error;
    const auto t0 = Clock::now();
    ASSERT_TRUE(cluster_->KillNode(primary, &error)) << error;
    // Acks of commits made before the kill landed still arrive for a moment.
    StepFor(std::chrono::seconds(1));
    const size_t acked_after_kill = TotalAcked();
    while (cluster_->PrimaryIndex() < 0 && Clock::now() - t0 < kPhaseLimit) StepFor(milliseconds(100));
    failover_ms_ = Ms(Clock::now() - t0);
    while (TotalAcked() <= acked_after_kill + 20 && Clock::now() - t0 < kPhaseLimit) Step();
    acks_back_ms_ = Ms(Clock::now() - t0);
    ASSERT_GT(TotalAcked(), acked_after_kill + 20) << "no acks after the failover";
    std::printf("[ha] killed node%d with %zu acked: a new primary after %lld ms, acks again after %lld ms\n", primary,
                acked_at_kill, failover_ms_, acks_back_ms_);
  }

  // Kills edge 0 (its clients move to edge 1), then brings it back.
  void KillAndRestartEdge() {
    edges_[0]->Kill9();
    StepFor(kEdgeDown);
    ASSERT_TRUE(edges_[0]->Restart());
  }

  void DrainAndPull() {
    for (auto& s : senders_) s->set_generating(false);
    const auto until = Clock::now() + kPhaseLimit;
    auto idle = [&] { return std::all_of(senders_.begin(), senders_.end(), [](auto& s) { return s->idle(); }); };
    while (!idle() && Clock::now() < until) Step();
    ASSERT_TRUE(idle()) << "senders still hold unacknowledged messages";
    for (auto& s : senders_) {
      for (const auto& [id, rec] : s->records()) ++expected_[rec.receiver];
    }
    auto complete = [&] {
      return std::all_of(receivers_.begin(), receivers_.end(), [&](auto& r) {
        return r->caught_up() && static_cast<size_t>(r->contiguous()) >= expected_[r->user()];
      });
    };
    while (!complete() && Clock::now() < until) {
      Step();
      for (auto& r : receivers_) {
        if (r->caught_up() && static_cast<size_t>(r->contiguous()) < expected_[r->user()]) r->RequestPull();
      }
    }
    ASSERT_TRUE(complete()) << "receivers did not get everything";
    for (auto* d : devices_) d->Drop();
    for (auto& e : edges_) e->Stop();
  }

  std::string Sql(const std::string& query) {
    std::string value, error;
    EXPECT_TRUE(proc::PgExec(cluster_->Conninfo("courier"), query, &error, &value)) << error << "\n" << query;
    return value;
  }

  // Offsets 1..head in every log, the head counter agreeing.
  void ExpectLogsGapless() {
    for (const auto& u : {"alice", "carol", "bob", "frank"}) {
      const std::string usr = std::string("convert_to('") + u + "', 'UTF8')";
      const std::string got =
          Sql("SELECT count(*) || ' ' || count(DISTINCT off) || ' ' || coalesce(max(off), 0) || ' ' ||"
              " coalesce((SELECT head FROM courier_heads WHERE usr = " +
              usr + "), 0) FROM courier_copies WHERE usr = " + usr);
      long long count = -1, distinct = -1, max_off = -1, head = -1;
      std::sscanf(got.c_str(), "%lld %lld %lld %lld", &count, &distinct, &max_off, &head);
      EXPECT_TRUE(count == distinct && count == max_off && count == head)
          << u << ": entries, distinct offsets, highest offset, head = " << got;
      logs_[u] = count;
    }
  }

  // Every acknowledged id in its sender's log once, nothing else there; the
  // receivers' logs as long as what was acknowledged to them.
  void ExpectAckedStoredOnce() {
    for (auto& s : senders_) {
      const std::string ids =
          Sql("SELECT coalesce(string_agg(convert_from(dedup_id, 'UTF8'), ','), '') FROM "
              "courier_copies WHERE device AND usr = convert_to('" +
              s->user() + "', 'UTF8')");
      std::multiset<std::string> stored;
      for (const auto& id : Split(ids)) stored.insert(id);
      for (const auto& [id, rec] : s->records()) {
        EXPECT_TRUE(rec.acked) << s->user() << "/" << id << " never acknowledged";
        EXPECT_EQ(stored.count(id), 1u) << s->user() << "/" << id << " stored " << stored.count(id) << " times";
        lost_ += stored.count(id) == 0 ? 1 : 0;
        duplicated_ += stored.count(id) > 1 ? 1 : 0;
      }
      EXPECT_EQ(stored.size(), s->records().size()) << s->user() << ": stored ids vs sent ids";
    }
    for (const auto& r : kReceivers) EXPECT_EQ(static_cast<size_t>(logs_[r]), expected_[r]) << r;
    for (auto& r : receivers_) {
      EXPECT_GE(static_cast<size_t>(r->contiguous()), expected_[r->user()]) << r->user() << " device";
      for (const auto& p : r->problems()) ADD_FAILURE() << r->user() << ": " << p;
    }
    for (auto& s : senders_) {
      for (const auto& p : s->problems()) ADD_FAILURE() << s->user() << ": " << p;
    }
  }

  void Report() {
    uint64_t sends = 0, retries = 0, transient = 0;
    for (auto& s : senders_) {
      sends += s->sends();
      retries += s->retries();
      transient += s->transient_errors();
    }
    std::printf("[ha] acked=%zu publishes=%llu retries=%llu transient_errors=%llu lost=%zu duplicated=%zu\n",
                TotalAcked(), static_cast<unsigned long long>(sends), static_cast<unsigned long long>(retries),
                static_cast<unsigned long long>(transient), lost_, duplicated_);
    RecordProperty("failover_ms", static_cast<int>(failover_ms_));
    RecordProperty("acks_back_ms", static_cast<int>(acks_back_ms_));
    RecordProperty("acked", static_cast<int>(TotalAcked()));
  }

  std::unique_ptr<proc::PatroniCluster> cluster_;
  std::string conninfo_;
  std::vector<std::unique_ptr<Broker>> edges_;
  std::vector<std::unique_ptr<LoadSender>> senders_;
  std::vector<std::unique_ptr<LoadReceiver>> receivers_;
  std::vector<AsyncDevice*> devices_;
  std::map<std::string, size_t> expected_;  // receiver -> acknowledged messages to it
  std::map<std::string, long long> logs_;   // user -> entries in its log
  long long failover_ms_ = 0, acks_back_ms_ = 0;
  size_t lost_ = 0, duplicated_ = 0;
};

TEST_F(HaCourierTest, EdgesLoseNothingAcknowledgedWhenThePrimaryDies) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  ASSERT_NO_FATAL_FAILURE(StartEdges());
  StartClients();
  StepFor(kTrafficBeforeKill);
  ASSERT_NO_FATAL_FAILURE(KillPrimaryUnderLoad());
  StepFor(kTrafficAfterFailover);
  ASSERT_NO_FATAL_FAILURE(KillAndRestartEdge());
  StepFor(kTrafficAfterFailover);
  ASSERT_NO_FATAL_FAILURE(DrainAndPull());
  ExpectLogsGapless();
  ExpectAckedStoredOnce();
  Report();
}

}  // namespace
}  // namespace courier::it
