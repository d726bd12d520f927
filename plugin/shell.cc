#include "shell.h"

extern "C" {
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
}

#include <string>

#include "acl.h"

namespace courier::plugin {
namespace {

// Without ticks (Mosquitto 2.0 sends none with per_listener_settings true)
// nothing would ever commit; past this silence the shell commits in the
// message callback instead.
constexpr auto kTickSilence = std::chrono::seconds(2);
// How often idle rate-limit buckets are dropped.
constexpr auto kSweepInterval = std::chrono::seconds(10);

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The rate limiter's clock: monotonic, so a clock change cannot refill buckets.
int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string_view OrEmpty(const char* s) { return s ? std::string_view(s) : std::string_view(); }

}  // namespace

Shell::Shell(PluginOptions options, std::unique_ptr<storage::Store> store)
    : options_(std::move(options)),
      engine_(options_.core),
      store_(std::move(store)),
      limiter_(options_.core.rate_limit_per_s, options_.core.rate_limit_burst),
      last_sweep_(std::chrono::steady_clock::now()),
      last_tick_(last_sweep_) {}

Shell::~Shell() = default;

int Shell::OnMessage(mosquitto_evt_message* ev) {
  core::Inbound in{.topic = OrEmpty(ev->topic),
                   .payload = std::string_view(static_cast<const char*>(ev->payload), ev->payloadlen),
                   .user = OrEmpty(mosquitto_client_username(ev->client)),
                   .client_id = OrEmpty(mosquitto_client_id(ev->client)),
                   .now_ms = NowMs()};
  if (engine_.topics().ParseInbound(in.topic)) {
    in.rate_limited = !limiter_.Allow(in.client_id, SteadyMs());
  }
  core::Decision d = engine_.OnPublish(in);
  if (!d.consumed) return MOSQ_ERR_SUCCESS;
  // The publish itself goes nowhere: the ACL lets nobody read send and
  // signal topics. It must not stay behind as a retained message either.
  ev->retain = false;
  Publish(d.publish);
  for (auto& r : d.requests) store_->Submit(std::move(r));
  if (store_->pending() > 0 && std::chrono::steady_clock::now() - last_tick_ > kTickSilence) {
    if (!warned_no_tick_) {
      mosquitto_log_printf(MOSQ_LOG_WARNING,
                           "courier: no tick event from the broker (per_listener_settings true?); "
                           "committing each message on its own, which is slow");
      warned_no_tick_ = true;
    }
    Flush();
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
  auto verdict = core::CheckAccess(engine_.topics(), options_.core,
                                   OrEmpty(mosquitto_client_username(ev->client)),
                                   OrEmpty(mosquitto_client_id(ev->client)), OrEmpty(ev->topic), access);
  switch (verdict) {
    case core::Verdict::kAllow: return MOSQ_ERR_SUCCESS;
    case core::Verdict::kDeny: return MOSQ_ERR_ACL_DENIED;
    case core::Verdict::kDefer: break;
  }
  return options_.other_topics == OtherTopics::kAllow ? MOSQ_ERR_SUCCESS : MOSQ_ERR_PLUGIN_DEFER;
}

int Shell::OnTick() {
  last_tick_ = std::chrono::steady_clock::now();
  Flush();
  if (last_tick_ - last_sweep_ > kSweepInterval) {
    limiter_.Sweep(SteadyMs());
    last_sweep_ = last_tick_;
  }
  return MOSQ_ERR_SUCCESS;
}

void Shell::FlushNow() { Flush(); }

void Shell::Flush() {
  if (store_->pending() == 0) return;
  for (const auto& done : store_->Flush()) {
    if (!done.status.ok() && done.status.transient()) {
      mosquitto_log_printf(MOSQ_LOG_WARNING, "courier: store: %s", done.status.ToString().c_str());
    }
    Publish(engine_.OnCompletion(done));
  }
}

void Shell::Publish(const std::vector<core::Publish>& publishes) {
  for (const auto& p : publishes) {
    int rc = mosquitto_broker_publish_copy(nullptr, p.topic.c_str(), static_cast<int>(p.payload.size()),
                                           p.payload.data(), 1, false, nullptr);
    if (rc != MOSQ_ERR_SUCCESS) {
      mosquitto_log_printf(MOSQ_LOG_ERR, "courier: publish to %s failed: %s", p.topic.c_str(),
                           mosquitto_strerror(rc));
    }
  }
}

}  // namespace courier::plugin
