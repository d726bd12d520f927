#include "support/scale_out_fixture.h"

#include <cstdio>
#include <map>

#include "support/device.h"
#include "support/durability.h"

namespace courier::it {
namespace {

using std::chrono::milliseconds;

constexpr auto kDrainLimit = std::chrono::seconds(60);

std::string Tail(const std::string& s, size_t n) { return s.size() <= n ? s : "...\n" + s.substr(s.size() - n); }

}  // namespace

void ScaleOutTest::TearDown() {
  if (!HasFailure()) return;
  for (size_t i = 0; i < edges_.size(); ++i) {
    std::fprintf(stderr, "----- edge %zu log tail -----\n%s\n", i, Tail(edges_[i]->log(), 6000).c_str());
  }
}

void ScaleOutTest::StartCluster(int standbys, const std::string& sync) {
  started_ = Clock::now();
  ASSERT_TRUE(cluster_.Start("courier", standbys, sync));
}

void ScaleOutTest::StartEdges(int edges) {
  for (int i = 0; i < edges; ++i) {
    BrokerOptions o;
    o.pg_conninfo = cluster_.EdgeConninfo();
    // A lost database connection is tried again soon (failover time).
    o.plugin_opts = {{"pg_reconnect_max_ms", "200"}, {"pg_connect_timeout_s", "2"}};
    o.extra_config = {"max_queued_messages 1000000"};
    edges_.push_back(std::make_unique<Broker>(o));
    ASSERT_TRUE(edges_.back()->Start());
  }
}

void ScaleOutTest::StartTraffic(const EdgeTrafficOptions& options) {
  traffic_ = std::make_unique<EdgeTraffic>(options);
}

std::vector<int> ScaleOutTest::Ports() const {
  std::vector<int> ports;
  for (const auto& e : edges_) ports.push_back(e->running() ? e->port() : 0);
  return ports;
}

void ScaleOutTest::RunFor(milliseconds d) {
  const auto until = Clock::now() + d;
  while (Clock::now() < until) traffic_->Step(Ports());
}

void ScaleOutTest::FinishAndAudit() {
  const auto t0 = Clock::now();
  EXPECT_TRUE(traffic_->Drain(Ports(), kDrainLimit))
      << traffic_->in_flight() << " messages still unacknowledged after " << kDrainLimit.count() << " s";
  EXPECT_TRUE(traffic_->CatchUp(Ports(), kDrainLimit)) << "receivers did not catch up";
  traffic_->DropAll();
  audit_ = std::make_unique<DeliveryAudit>(*traffic_);
  const auto& receivers = traffic_->receivers();
  for (size_t i = 0; i < receivers.size(); ++i) {
    Broker& edge = *edges_[i % edges_.size()];
    CourierDevice d(edge.port(), receivers[i]->user(), receivers[i]->user() + "-audit");
    ASSERT_TRUE(d.Connect());
    std::map<int32_t, v1::Message> entries;
    int32_t head = 0;
    ASSERT_TRUE(PullWholeLog(d, &entries, &head)) << receivers[i]->user();
    std::vector<v1::Message> list;
    for (auto& [off, m] : entries) list.push_back(std::move(m));
    audit_->AddFinalPull(receivers[i]->user(), list);
    d.Disconnect();
  }
  for (auto& e : edges_) e->Stop();
  ASSERT_TRUE(audit_->ReadStore(cluster_.PrimaryConninfo()));
  audit_->Check();
  ExpectNoClientProblems();
  audit_ms_ = std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count();
}

uint64_t ScaleOutTest::ErrorAnswers() const {
  uint64_t n = traffic_->transient_errors();
  for (const auto& r : traffic_->receivers()) n += r->pull_errors() + r->problems().size();
  for (const auto& s : traffic_->senders()) n += s->problems().size();
  return n;
}

void ScaleOutTest::ExpectNoClientProblems() const {
  for (const auto& s : traffic_->senders()) {
    for (const auto& p : s->problems()) ADD_FAILURE() << s->user() << ": " << p;
  }
  for (const auto& r : traffic_->receivers()) {
    for (const auto& p : r->problems()) ADD_FAILURE() << r->user() << ": " << p;
  }
}

void ScaleOutTest::Report(const std::string& name, const std::string& extra) {
  const auto& c = audit_ ? audit_->counts() : DeliveryAudit::Counts{};
  uint64_t retries = 0, repeat_acks = 0, live = 0, pulled = 0;
  for (const auto& s : traffic_->senders()) retries += s->retries(), repeat_acks += s->repeat_acks();
  for (const auto& r : traffic_->receivers()) live += r->live(), pulled += r->pulled();
  const auto total = std::chrono::duration_cast<milliseconds>(Clock::now() - started_).count();
  std::printf(
      "[scale-out] %s: %s\n"
      "[scale-out] %s: acked=%zu stored=%zu device_copies=%zu retries=%llu resends_answered_by_dedup=%zu "
      "repeat_acks=%llu failovers=%llu error_answers=%llu receivers live=%llu pulled=%llu\n"
      "[scale-out] %s: lost=%zu duplicated=%zu gaps=%zu ack_mismatch=%zu unacked_stored=%zu final_pull_missing=%zu "
      "final_pull_twice=%zu taken_back=%zu audit=%lld ms total=%lld ms\n",
      name.c_str(), extra.c_str(), name.c_str(), c.acked, c.stored, c.device_copies,
      static_cast<unsigned long long>(retries), c.resends_after_stored, static_cast<unsigned long long>(repeat_acks),
      static_cast<unsigned long long>(traffic_->failovers()), static_cast<unsigned long long>(ErrorAnswers()),
      static_cast<unsigned long long>(live), static_cast<unsigned long long>(pulled), name.c_str(), c.lost,
      c.duplicated, c.gaps, c.ack_mismatch, c.unacked_stored, c.final_pull_missing, c.final_pull_twice, c.taken_back,
      static_cast<long long>(audit_ms_), static_cast<long long>(total));
  std::fflush(stdout);
  RecordProperty("acked", static_cast<int>(c.acked));
}

}  // namespace courier::it
