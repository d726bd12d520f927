// courier_fuzz_inbound: libFuzzer target over the plugin's inbound path.
//
// Each input is a sequence of publishes (fuzz/input.h): topic, payload and
// the publisher's identity. Every publish goes through what the shell does
// with it (plugin/shell.cc), minus Mosquitto:
//   core::CheckAccess for read, write, subscribe and unsubscribe,
//   the RateLimiter (when the input turns it on),
//   core::Engine::OnPublish (OnControl for the admin topic),
//   storage::LmdbStore::Submit, then Flush (on request, and every
//   kFlushEveryInputs inputs: batches span inputs as they span clients),
//   core::Engine::OnCompletion for every completion, and
//   core::Engine::Housekeeping (expiry, retention) with every periodic flush.
// Besides ASan/UBSan findings it checks the security invariants below and
// aborts (a finding) when one breaks. Every check prints what broke.
//
// The store is one LMDB environment in a temporary directory for the whole
// process (sync os: no fsync), recreated when it fills up. A finding on one
// input therefore may depend on earlier inputs; see fuzz/README.md.
//
// The invariants are in invariants.h, the engines, the store and its model
// in fuzz_world.h.
#include <mosquitto.h>
#include <unistd.h>

#include <google/protobuf/stubs/logging.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "acl.h"
#include "admin.h"
#include "engine.h"
#include "fuzz_world.h"
#include "input.h"
#include "invariants.h"
#include "rate_limiter.h"

namespace courier::fuzz {
namespace {

constexpr int kFlushEveryInputs = 4;
constexpr size_t kMaxPending = 512;

std::string TopicFor(const core::Engine& e, const Record& rec, std::string_view user, std::string_view client) {
  const std::string& p = e.topics().prefix();
  const std::string other = user == "bob" ? "alice" : "bob";
  switch (rec.topic) {
    case TopicKind::kOwnSend: return p + "/" + std::string(user) + "/send";
    case TopicKind::kOwnSignal: return p + "/" + std::string(user) + "/signal";
    case TopicKind::kOtherSend: return p + "/" + other + "/send";
    case TopicKind::kOtherSignal: return p + "/" + other + "/signal";
    case TopicKind::kOwnInbox: return e.topics().Inbox(user);
    case TopicKind::kDeviceEvents: return e.topics().DeviceEvents(user, client);
    case TopicKind::kControl: return std::string(core::kAdminTopic);
    case TopicKind::kRaw: return rec.raw_topic;
  }
  return rec.raw_topic;
}

bool Utf8(const std::string& s) {
  return s.size() < 65536 && mosquitto_validate_utf8(s.data(), static_cast<int>(s.size())) == MOSQ_ERR_SUCCESS;
}

int64_t NowMs(const Record& rec, size_t index) {
  switch (rec.clock) {
    case Clock::kTick: return kBaseMs + static_cast<int64_t>(index) * 1000;
    case Clock::kSame: return kBaseMs;
    case Clock::kLater: return kBaseMs + static_cast<int64_t>(index) * 10000;
    case Clock::kRaw: return static_cast<int64_t>(rec.raw_seconds) * 1000;
  }
  return kBaseMs;
}

}  // namespace
}  // namespace courier::fuzz

using namespace courier;
using namespace courier::fuzz;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Invalid UTF-8 in string fields is an expected parse failure here, not news.
  google::protobuf::SetLogHandler(nullptr);
  world = new World();
  for (int v = 0; v < kVariants; ++v)
    world->engines.push_back(std::make_unique<core::Engine>(Variant(v), &world->stats));
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/courier-fuzz-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) Fail("mkdtemp failed");
  world->dir = tmpl;
  OpenStore();
  std::atexit(Cleanup);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = *world;
  const Input input = Decode(data, size);
  const core::Engine& engine = *w.engines[input.variant];
  // Requests of another variant's engine are completed by that engine; a
  // different prefix would change their topics, so flush them first.
  if (!w.pending.empty() && w.pending.back()->topics().prefix() != engine.topics().prefix()) Flush();
  core::RateLimiter limiter(input.rate_limit ? 2 : 0, 3);
  const auto& opts = engine.options();
  core::RateLimiter variant_limiter(opts.rate_limit_per_s, opts.rate_limit_burst);

  int64_t last_now = kBaseMs;
  for (size_t i = 0; i < input.records.size(); ++i) {
    const Record& rec = input.records[i];
    std::string user, client;
    switch (rec.who) {
      case Who::kAlice1: user = "alice", client = "a1"; break;
      case Who::kBob1: user = "bob", client = "b1"; break;
      case Who::kAlice2: user = "alice", client = "a2"; break;
      case Who::kRaw: user = rec.raw_user, client = rec.raw_client; break;
    }
    const std::string topic = TopicFor(engine, rec, user, client);
    // Only what Mosquitto lets through: it refuses a CONNECT whose username
    // or client id, and a PUBLISH/SUBSCRIBE whose topic, is not valid UTF-8
    // (MQTT-1.5.3), so nothing else ever reaches the plugin.
    if (!Utf8(user) || !Utf8(client) || !Utf8(topic)) continue;
    CheckAcl(engine, topic, user, client);
    // A PUBLISH to a topic with wildcards is refused by the broker too.
    if (mosquitto_pub_topic_check2(topic.data(), topic.size()) != MOSQ_ERR_SUCCESS) continue;
    const bool write_allowed =
        core::CheckAccess(engine.topics(), opts, user, client, topic, core::Access::kWrite) == core::Verdict::kAllow;
    core::Inbound in{
        .topic = topic, .payload = rec.payload, .user = user, .client_id = client, .now_ms = NowMs(rec, i)};
    last_now = in.now_ms;
    if (engine.topics().ParseInbound(topic)) {
      const bool a = limiter.Allow(client, in.now_ms);
      const bool b = variant_limiter.Allow(client, in.now_ms);
      in.rate_limited = !a || !b;
    }
    core::Decision d;
    if (topic == core::kAdminTopic) {
      // Mosquitto hands $CONTROL publishes to the plugin's control callback.
      d = engine.OnControl(in);
      CheckControl(engine, in, d);
    } else {
      d = engine.OnPublish(in);
      CheckDecision(engine, in, d, write_allowed);
      if (in.rate_limited) Check(d.requests.empty(), "a rate-limited publish reached the store");
    }
    for (auto& r : d.requests) {
      w.store->Submit(std::move(r));
      w.pending.push_back(&engine);
    }
    if (rec.flush || w.store->pending() >= kMaxPending) Flush();
  }
  if (++w.inputs % kFlushEveryInputs == 0) {
    Flush();
    // The shell's periodic work (expiry, retention), in a batch of its own.
    const int64_t retention_ms = input.variant == 3 ? 1000 : 0;
    for (auto& r : engine.Housekeeping(last_now, retention_ms)) {
      w.store->Submit(std::move(r));
      w.pending.push_back(&engine);
    }
    Flush();
  }
  return 0;
}
