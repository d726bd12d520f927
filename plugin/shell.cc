#include "shell.h"

extern "C" {
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
}

#include <malloc.h>

#include <algorithm>
#include <string>

#include "acl.h"
#include "broker_config.h"
#include "echo.h"
#include "other_topics.h"
#include "threaded_store.h"

namespace courier::plugin {
namespace {

// Without ticks (Mosquitto 2.0 sends none with per_listener_settings true)
// nothing would ever commit; past this silence the shell commits in the
// message callback instead.
constexpr auto kTickSilence = std::chrono::seconds(2);
// How often expiry and retention run, each a bounded slice.
constexpr auto kHousekeepingInterval = std::chrono::seconds(1);
// How often idle rate-limit buckets are dropped.
constexpr auto kSweepInterval = std::chrono::seconds(10);
// How often the loop is kicked while a publish to WebSocket clients waits
// (loop_kicker.h): the added delay of such a delivery is at most about this.
constexpr auto kKickInterval = std::chrono::microseconds(200);
// Due pushes read per scan request after a start.
constexpr uint32_t kPushScanSlice = 1000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The rate limiter's clock: monotonic, so a clock change cannot refill buckets.
int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string_view OrEmpty(const char* s) { return s ? std::string_view(s) : std::string_view(); }

// The message and control events carry the same fields.
template <typename Event>
core::Inbound InboundOf(const Event* ev) {
  return core::Inbound{.topic = OrEmpty(ev->topic),
                       .payload = std::string_view(static_cast<const char*>(ev->payload), ev->payloadlen),
                       .user = OrEmpty(mosquitto_client_username(ev->client)),
                       .client_id = OrEmpty(mosquitto_client_id(ev->client)),
                       .now_ms = NowMs()};
}

}  // namespace

Shell::Shell(PluginOptions options, std::unique_ptr<storage::Store> store, std::function<void()> wake,
             std::optional<EdgeDelivery::MakeBus> edges)
    : options_(std::move(options)),
      configured_other_topics_(options_.other_topics),
      engine_(options_.core, &stats_),
      store_(wake ? MakeThreaded(std::move(store), wake) : std::move(store)),
      kicker_(wake ? std::make_unique<LoopKicker>(wake, kKickInterval) : nullptr),
      limiter_(options_.core.rate_limit_per_s, options_.core.rate_limit_burst),
      last_sweep_(std::chrono::steady_clock::now()),
      last_tick_(last_sweep_),
      last_housekeeping_(last_sweep_),
      last_stats_log_(last_sweep_) {
  // Set here rather than in MakeThreaded, so that member order cannot undo
  // it: without it nothing would release the worker.
  threaded_ = dynamic_cast<storage::ThreadedStore*>(store_.get());
  if (!threaded_) WarnNoTick();
  if (edges) {
    edges_ = std::make_unique<EdgeDelivery>(
        engine_, options_.edge, NewEdgeId(), &outbox_,
        [this] {
          if (kicker_) kicker_->Published();
        },
        *edges);
  }
  if (!options_.push.url.empty()) {
    push::PushSender::GlobalInit();
    pusher_ = std::make_unique<push::PushSender>(
        options_.push,
        [this](const std::string& user, const std::string& device) { return presence_.IsConnected(user, device); });
    // Pushes a crash left due are sent again.
    store_->Submit(storage::PushScanRequest{.after_key = {}, .limit = kPushScanSlice});
  }
}

void Shell::WarnNoTick() {
  if (warned_no_tick_) return;
  warned_no_tick_ = true;
  mosquitto_log_printf(MOSQ_LOG_WARNING,
                       "courier: no tick event from the broker (per_listener_settings true?); "
                       "committing each message on its own, which is slow");
}

Shell::~Shell() {
  if (edges_) edges_->StopBus();
}

int Shell::OnMessage(mosquitto_evt_message* ev) {
  core::Inbound in = InboundOf(ev);
  // A plugin listed before Courier answers ACL checks first (Mosquitto stops
  // at the first answer that is not DEFER), so a publish under the prefix
  // that Courier's own ACL refuses (say, a forged Message on another user's
  // inbox, let through by a dynamic-security role for '#') can get here.
  // Drop it: nothing under the prefix is relayed that Courier would refuse.
  if (core::CheckAccess(engine_.topics(), options_.core, in.user, in.client_id, in.topic, core::Access::kWrite) ==
      core::Verdict::kDeny) {
    return MOSQ_ERR_ACL_DENIED;
  }
  if (engine_.topics().ParseInbound(in.topic)) { in.rate_limited = !limiter_.Allow(in.client_id, SteadyMs()); }
  core::Decision d = engine_.OnPublish(in);
  if (!d.consumed) return MOSQ_ERR_SUCCESS;
  // The publish itself goes nowhere: the ACL lets nobody read send and
  // signal topics. It must not stay behind as a retained message either.
  ev->retain = false;
  Publish(d.publish);
  if (edges_) edges_->Made(d.publish);  // activity and transient copies, for devices on other edges
  for (auto& r : d.requests) store_->Submit(std::move(r));
  FlushWithoutTicks();
  return MOSQ_ERR_SUCCESS;
}

void Shell::FlushWithoutTicks() {
  // Before the first tick, or when ticks stopped (per_listener_settings
  // true), commit here: nothing else would.
  const bool silent = std::chrono::steady_clock::now() - last_tick_ > kTickSilence;
  if (store_->pending() > 0 && (!seen_tick_ || silent)) {
    if (silent) WarnNoTick();
    Flush();
  }
}

int Shell::OnControl(mosquitto_evt_control* ev) {
  core::Inbound in = InboundOf(ev);
  if (engine_.IsAdmin(in.user)) {
    // Walks the allocator's free lists: fine per admin request, not per
    // message, and not for whoever else publishes on the admin topic.
    const struct mallinfo2 heap = mallinfo2();
    stats_.heap_in_use_bytes = heap.uordblks + heap.hblkhd;
  }
  core::Decision d = engine_.OnControl(in);
  Publish(d.publish);
  for (auto& r : d.requests) store_->Submit(std::move(r));
  FlushWithoutTicks();
  return MOSQ_ERR_SUCCESS;
}

int Shell::OnDisconnect(mosquitto_evt_disconnect* ev) {
  const std::string_view user = OrEmpty(mosquitto_client_username(ev->client));
  if (presence_.Disconnected(user, OrEmpty(mosquitto_client_id(ev->client))) && edges_) {
    edges_->Absent(std::string(user));
  }
  return MOSQ_ERR_SUCCESS;
}

int Shell::OnAclCheck(mosquitto_evt_acl_check* ev) {
  core::Access access;
  switch (ev->access) {
    case MOSQ_ACL_READ: access = core::Access::kRead; break;
    case MOSQ_ACL_WRITE: access = core::Access::kWrite; break;
    case MOSQ_ACL_SUBSCRIBE: access = core::Access::kSubscribe; break;
    case MOSQ_ACL_UNSUBSCRIBE: access = core::Access::kUnsubscribe; break;
    default: return MOSQ_ERR_PLUGIN_DEFER;
  }
  const std::string_view client_id = OrEmpty(mosquitto_client_id(ev->client));
  auto verdict = core::CheckAccess(engine_.topics(), options_.core, OrEmpty(mosquitto_client_username(ev->client)),
                                   client_id, OrEmpty(ev->topic), access);
  switch (verdict) {
    case core::Verdict::kAllow:
      if (access == core::Access::kSubscribe) {
        const std::string_view user = OrEmpty(mosquitto_client_username(ev->client));
        if (presence_.Connected(user, client_id, mosquitto_client_protocol(ev->client) == mp_websockets) && edges_) {
          // Its first pull (the head) is submitted now, before any pull the
          // device sends after subscribing: that one then sees at least that head.
          edges_->Present(std::string(user), NowMs());
          for (auto& r : edges_->Due(NowMs())) store_->Submit(std::move(r));
        }
      }
      if (access == core::Access::kRead && !options_.core.echo_to_sending_device && ev->payload &&
          core::IsEchoToSendingDevice(engine_.topics(), OrEmpty(ev->topic), client_id,
                                      std::string_view(static_cast<const char*>(ev->payload), ev->payloadlen))) {
        return MOSQ_ERR_ACL_DENIED;  // the sending device has it: one packet fewer
      }
      return MOSQ_ERR_SUCCESS;
    case core::Verdict::kDeny: return MOSQ_ERR_ACL_DENIED;
    case core::Verdict::kDefer: break;
  }
  // kAuto never gets here: DecideOtherTopics() settled it at load.
  return options_.other_topics == OtherTopics::kAllow ? MOSQ_ERR_SUCCESS : MOSQ_ERR_PLUGIN_DEFER;
}

void Shell::DecideOtherTopics() {
  auto scan = ScanOwnBrokerConfig(options_.engine == StoreEngine::kPostgres
                                      ? OwnOption{"plugin_opt_pg_conninfo", options_.pg.conninfo, /*secret=*/true}
                                      : OwnOption{"plugin_opt_db_path", options_.store.path});
  auto decision = plugin::DecideOtherTopics(configured_other_topics_, options_.core.topic_prefix, scan);
  options_.other_topics = decision.effective;
  for (const auto& line : decision.lines) {
    mosquitto_log_printf(line.warning ? MOSQ_LOG_WARNING : MOSQ_LOG_INFO, "%s", line.text.c_str());
  }
}

std::unique_ptr<storage::Store> Shell::MakeThreaded(std::unique_ptr<storage::Store> store, std::function<void()> wake) {
  // An idle worker waits for the tick, so that a loop round's requests
  // start one commit together instead of the first one alone.
  return std::make_unique<storage::ThreadedStore>(
      std::move(store), std::move(wake), storage::ThreadedStore::kDefaultMaxBatch,
      [this](std::vector<storage::Completion>& batch) { FinishBatch(batch); },
      storage::ThreadedStore::Start::kAtRelease);
}

int Shell::OnTick() {
  if (kicker_) kicker_->Tick();
  seen_tick_ = true;
  last_tick_ = std::chrono::steady_clock::now();
  if (last_tick_ - last_housekeeping_ >= kHousekeepingInterval) {
    last_housekeeping_ = last_tick_;
    Housekeeping();  // the store commits it apart from clients' requests
  }
  FollowEdges();
  Flush();
  if (options_.stats_interval_s > 0 &&
      last_tick_ - last_stats_log_ >= std::chrono::seconds(options_.stats_interval_s)) {
    last_stats_log_ = last_tick_;
    LogStats();
  }
  if (last_tick_ - last_sweep_ > kSweepInterval) {
    limiter_.Sweep(SteadyMs());
    last_sweep_ = last_tick_;
  }
  return MOSQ_ERR_SUCCESS;
}

void Shell::FlushNow() { Flush(); }

void Shell::Housekeeping() {
  const int64_t retention_ms = static_cast<int64_t>(options_.retention_s) * 1000;
  for (auto& r : engine_.Housekeeping(NowMs(), retention_ms)) store_->Submit(std::move(r));
}

void Shell::FollowEdges() {
  if (!edges_) return;
  for (auto& r : edges_->Due(NowMs())) store_->Submit(std::move(r));
  edges_->Ship();
  for (const auto& line : edges_->TakeLog()) mosquitto_log_printf(MOSQ_LOG_WARNING, "courier: %s", line.c_str());
}

void Shell::LogStats() {
  const auto& s = stats_;
  uint64_t errors = 0;
  for (uint64_t n : s.errors) errors += n;
  mosquitto_log_printf(
      MOSQ_LOG_NOTICE,
      "courier: stats accepted=%llu duplicates=%llu deliveries=%llu receipts=%llu "
      "expired=%llu trimmed=%llu relayed=%llu errors=%llu commits=%llu "
      "commit_us_mean=%llu commit_us_max=%llu",
      (unsigned long long)s.accepted, (unsigned long long)s.duplicates, (unsigned long long)s.deliveries,
      (unsigned long long)s.receipts, (unsigned long long)s.expired, (unsigned long long)s.trimmed,
      (unsigned long long)s.relayed, (unsigned long long)errors, (unsigned long long)s.commits,
      (unsigned long long)(s.commits ? s.commit_us_total / s.commits : 0), (unsigned long long)s.commit_us_max);
}

void Shell::Flush() {
  if (threaded_) threaded_->Release();  // an idle worker may start on this round's requests
  if (store_->pending() > 0) {
    auto completions = store_->Flush();
    const storage::StoreStats commits = store_->commit_stats();
    stats_.commits = commits.commits;
    stats_.commit_us_total = commits.commit_us_total;
    stats_.commit_us_max = commits.commit_us_max;
    stats_.last_commit_us = commits.last_commit_us;
    for (const auto& done : completions) {
      if (!done.status.ok() && done.status.transient()) {
        mosquitto_log_printf(MOSQ_LOG_WARNING, "courier: store: %s", done.status.ToString().c_str());
      } else if (done.status.code() == storage::Status::Code::kInvalid) {
        // Answered with `internal`: the engine built a request the store refuses, a bug.
        mosquitto_log_printf(MOSQ_LOG_ERR, "courier: store refused a request: %s", done.status.ToString().c_str());
      }
    }
    // Without the worker (no ticks), the same step runs here.
    if (!threaded_) FinishBatch(completions);
  }
  Outbox::Contents out = outbox_.Take();
  for (const auto& failure : out.failures) mosquitto_log_printf(MOSQ_LOG_ERR, "courier: %s", failure.c_str());
  Publish(out.publishes);
  SettlePushes();
}

void Shell::ForwardPushes(const storage::Completion& done) {
  if (!pusher_ || !done.status.ok()) return;
  if (const auto* r = std::get_if<storage::AppendResult>(&done.result); r && !r->pushes.empty()) {
    pusher_->Add(r->pushes);
  } else if (const auto* rr = std::get_if<storage::ReceiptResult>(&done.result)) {
    if (rr->entry.signal_ack_state().received() || rr->entry.signal_ack_state().read()) {
      const auto& req = std::get<storage::ReceiptRequest>(done.request);
      pusher_->Received(req.user, req.offset);
    }
  } else if (const auto* s = std::get_if<storage::PushScanResult>(&done.result)) {
    pusher_->Add(s->due);
    if (!s->next_key.empty()) {
      std::lock_guard lock(scan_mu_);
      scan_next_ = s->next_key;
    }
  }
}

void Shell::SettlePushes() {
  if (!pusher_) return;
  push::PushSender::Outcome o = pusher_->Take();
  for (const auto& line : o.log) mosquitto_log_printf(MOSQ_LOG_WARNING, "courier: %s", line.c_str());
  if (!o.done.empty() || !o.unregister.empty()) {
    store_->Submit(storage::PushDoneRequest{.done = std::move(o.done), .unregister = std::move(o.unregister)});
  }
  std::optional<std::string> next;
  {
    std::lock_guard lock(scan_mu_);
    next.swap(scan_next_);
  }
  if (next) store_->Submit(storage::PushScanRequest{.after_key = std::move(*next), .limit = kPushScanSlice});
}

void Shell::FinishBatch(std::vector<storage::Completion>& batch) {
  Outbox::Contents out;
  const int64_t now = edges_ ? NowMs() : 0;
  for (auto& done : batch) {
    try {
      if (edges_ && edges_->Catch(done, now, &out.publishes)) continue;  // a catch-up pull
      std::vector<core::Publish> publishes = engine_.OnCompletion(done);
      if (edges_) edges_->Made(publishes);  // in completion order: claims precede later catch-ups
      for (auto& p : publishes) out.publishes.push_back(std::move(p));
      ForwardPushes(done);
    } catch (const std::exception& e) {
      // Committed, but its answers are lost: the client's retry is answered
      // from the store (dedup), as after a dropped connection.
      out.failures.push_back(std::string("building the publishes of a commit failed: ") + e.what());
    } catch (...) { out.failures.push_back("building the publishes of a commit failed"); }
  }
  outbox_.Put(std::move(out));
  if (edges_) edges_->Ship();  // hints after the commit, never inside it
}

void Shell::Publish(const std::vector<core::Publish>& publishes) {
  if (publishes.empty()) return;
  if (kicker_ && presence_.AnyWebSocket()) kicker_->Published();
  for (const auto& p : publishes) {
    int rc = mosquitto_broker_publish_copy(p.client_id.empty() ? nullptr : p.client_id.c_str(), p.topic.c_str(),
                                           static_cast<int>(p.payload.size()), p.payload.data(), p.qos, false, nullptr);
    if (rc != MOSQ_ERR_SUCCESS) {
      mosquitto_log_printf(MOSQ_LOG_ERR, "courier: publish to %s failed: %s", p.topic.c_str(), mosquitto_strerror(rc));
    }
  }
}

}  // namespace courier::plugin
