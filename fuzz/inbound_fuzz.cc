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
#include <mosquitto.h>
#include <unistd.h>

#include <google/protobuf/stubs/logging.h>

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "acl.h"
#include "admin.h"
#include "echo.h"
#include "engine.h"
#include "error_code.h"
#include "input.h"
#include "lmdb_store.h"
#include "reply.h"
#include "rate_limiter.h"
#include "stats.h"
#include "topics.h"
#include "validate.h"

namespace courier::fuzz {
namespace {

using courier::v1::Message;
using courier::v1::Signal;

constexpr int kFlushEveryInputs = 4;
constexpr size_t kMaxNameAnyVariant = 254;
constexpr size_t kMaxPending = 512;
constexpr int kSignalTypeDevice = 2;
constexpr int kSignalTypeReceiver = 3;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "courier_fuzz_inbound: invariant broken: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

void Check(bool ok, const std::string& what) {
  if (!ok) Fail(what);
}

std::string Printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

// The engine variants an input can pick (config bits 0-1).
core::CoreOptions Variant(int v) {
  core::CoreOptions o;
  switch (v) {
    case 0:  // the plugin's defaults
      break;
    case 1:  // a multi-level prefix and small limits; alice and bob are admins
      o.topic_prefix = "chat/v1";
      o.max_payload_bytes = 64;
      o.max_id_bytes = 8;
      o.max_name_bytes = 16;
      o.default_pull_limit = 2;
      o.max_pull_limit = 3;
      o.max_clock_skew_s = 60;
      o.max_undelivered = 3;
      o.admin_users = {"alice", "bob"};
      break;
    case 2:  // the largest names and ids the plugin's options allow: store keys at their limit
      o.max_name_bytes = 254;
      o.max_id_bytes = 256;
      o.max_payload_bytes = 1 << 20;
      o.max_pull_limit = 100000;
      o.default_pull_limit = 100000;
      break;
    default:  // quotas on, short expiry, small groups, alice is an admin
      o.max_undelivered = 1;
      o.rate_limit_per_s = 1;
      o.rate_limit_burst = 2;
      o.default_expiry_s = 5;
      o.max_expiry_s = 60;
      o.max_group_members = 3;
      o.admin_users = {"alice"};
      break;
  }
  return o;
}

struct World {
  core::Stats stats;
  std::vector<std::unique_ptr<core::Engine>> engines;
  std::string dir;
  std::unique_ptr<storage::LmdbStore> store;
  // Engine that made each submitted request, in submission order (LMDB
  // completes all of them, in order).
  std::deque<const core::Engine*> pending;
  // The model of the store: each user's head and each conversation's
  // counter, from the completions seen since the store was (re)created.
  std::map<std::string, int32_t> heads;
  std::map<std::string, int32_t> convs;
  uint64_t inputs = 0;
  uint64_t resets = 0;
};

World* world = nullptr;

void OpenStore() {
  World& w = *world;
  w.store.reset();
  std::error_code ec;
  std::filesystem::remove_all(w.dir + "/db", ec);
  storage::LmdbOptions o;
  o.path = w.dir + "/db";
  o.map_size_mb = 4;
  o.max_map_size_mb = 64;  // bounds disk use; full means store_full and a new store
  o.sync = storage::SyncMode::kOs;
  storage::Status s = storage::LmdbStore::Open(o, &w.store);
  if (!s.ok()) Fail("cannot open the store: " + s.ToString());
  w.heads.clear();
  w.convs.clear();
  ++w.resets;
}

void Cleanup() {
  if (world == nullptr) return;
  world->store.reset();
  std::error_code ec;
  std::filesystem::remove_all(world->dir, ec);
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Every publish the plugin makes: an admin reply to one client, or a publish
// below the prefix to the inbox (a Message) or events (a Signal) of a valid
// user name, whose `from`, when set, is a valid name too.
void CheckPublishShape(const core::Engine& e, const core::Publish& p) {
  if (p.topic == core::kAdminResponseTopic) {
    Check(!p.client_id.empty(), "an admin reply to every subscriber of " + p.topic);
    return;
  }
  Check(p.client_id.empty(), "a publish to one client that is not an admin reply: " + Printable(p.topic));
  auto levels = e.topics().Levels(p.topic);
  Check(levels.has_value(), "publish outside the prefix: " + Printable(p.topic));
  // Names stored under another variant (housekeeping of a shared store) may
  // be as long as the largest variant allows.
  const size_t max = kMaxNameAnyVariant;
  Check(core::IsValidName((*levels)[0], max), "publish to a topic whose user level is not a valid name: " + Printable(p.topic));
  if (EndsWith(p.topic, "/inbox")) {
    Message m;
    Check(m.ParseFromString(p.payload), "inbox publish is not a Message: " + Printable(p.topic));
    Check(m.signal_offset() >= 1 || m.transient(), "stored message delivered without an offset: " + m.ShortDebugString());
    Check(core::IsValidName(m.from().user(), max), "delivered message with a bad from.user: " + m.ShortDebugString());
    // The echo filter (core/echo.h) reads from the wire what the parser reads.
    const bool echo = levels->size() == 2 && m.signal_type() == kSignalTypeDevice && !m.from().device().empty();
    Check(core::IsEchoToSendingDevice(e.topics(), p.topic, m.from().device(), p.payload) == echo,
          "echo filter disagrees with the parser on " + Printable(p.topic) + ": " + m.ShortDebugString());
    Check(!core::IsEchoToSendingDevice(e.topics(), p.topic, m.from().device() + "~", p.payload),
          "echo filter matches another device: " + m.ShortDebugString());
  } else if (EndsWith(p.topic, "/events")) {
    Signal s;
    Check(s.ParseFromString(p.payload), "events publish is not a Signal: " + Printable(p.topic));
    Check(s.from().user().empty() || core::IsValidName(s.from().user(), max),
          "Signal with a bad from.user: " + s.ShortDebugString());
  } else {
    Fail("publish to neither inbox nor events: " + Printable(p.topic));
  }
}

// An error Signal: a documented code, type ERROR for permanent and
// RESPONSE for transient codes, signal_offset_state false.
void CheckError(const Signal& s, const std::string& ctx) {
  const std::string code = s.error().substr(0, s.error().find(':'));
  for (int i = 0; i < static_cast<int>(core::ErrorCode::kCount); ++i) {
    const auto c = static_cast<core::ErrorCode>(i);
    if (core::Name(c) != code) continue;
    Check(s.type() == (core::IsTransient(c) ? 2 : 3), "error '" + s.error() + "' with type " +
                                                           std::to_string(s.type()) + ctx);
    Check(!s.signal_offset_state(), "error with signal_offset_state true" + ctx);
    Check(c != core::ErrorCode::kInternal, "error 'internal' (a bug by definition): " + s.error() + ctx);
    return;
  }
  Fail("error Signal with an undocumented code: '" + Printable(s.error()) + "'" + ctx);
}

std::string TopicFor(const core::Engine& e, const Record& rec, std::string_view user,
                     std::string_view client) {
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

// ACL: what CheckAccess allows must be the publisher's own topics.
void CheckAcl(const core::Engine& e, std::string_view topic, std::string_view user,
              std::string_view client) {
  const auto& opts = e.options();
  const auto levels = e.topics().Levels(topic);
  const std::string ctx = " (topic '" + Printable(topic) + "', user '" + Printable(user) +
                          "', client '" + Printable(client) + "')";
  for (auto access : {core::Access::kRead, core::Access::kWrite, core::Access::kSubscribe,
                      core::Access::kUnsubscribe}) {
    const core::Verdict v = core::CheckAccess(e.topics(), opts, user, client, topic, access);
    if (topic == core::kAdminTopic || topic == core::kAdminResponseTopic) {
      // The admin API: anyone named may ask and listen (the engine checks
      // admin_users; replies are published to the asking client only), but
      // nobody may publish replies or read the requests.
      const bool ask = topic == core::kAdminTopic && access == core::Access::kWrite;
      const bool listen = topic == core::kAdminResponseTopic && access != core::Access::kWrite;
      if (v == core::Verdict::kAllow && access != core::Access::kUnsubscribe) {
        Check(ask || listen, "admin topic access beyond ask/listen" + ctx);
        Check(core::IsValidName(user, opts.max_name_bytes), "admin topic access without a usable name" + ctx);
      }
      continue;
    }
    if (!levels) {
      Check(v == core::Verdict::kDefer, "a topic outside the prefix was not deferred" + ctx);
      continue;
    }
    Check(v != core::Verdict::kDefer, "a topic below the prefix was deferred" + ctx);
    if (v != core::Verdict::kAllow || access == core::Access::kUnsubscribe) continue;
    Check(core::IsValidName(user, opts.max_name_bytes) && core::IsValidName(client, opts.max_name_bytes),
          "access allowed to a client with an unusable name" + ctx);
    Check((*levels)[0] == user, "access allowed to another user's topic" + ctx);
    const std::string own = e.topics().prefix() + "/" + std::string(user);
    if (access == core::Access::kWrite) {
      Check(topic == own + "/send" || topic == own + "/signal", "write allowed outside send/signal" + ctx);
    } else if (access == core::Access::kRead) {
      Check(topic == e.topics().Inbox(user) || topic == e.topics().Events(user) ||
                topic == e.topics().DeviceInbox(user, client) ||
                topic == e.topics().DeviceEvents(user, client),
            "read allowed on a topic that is not the client's inbox or events" + ctx);
    } else {
      // A filter may hold wildcards below the user level, but it never
      // reaches send/signal or another device's topics.
      Check(topic != own + "/send" && topic != own + "/signal", "subscribe allowed to send/signal" + ctx);
      if (levels->size() >= 3 && ((*levels)[1] == "devices" || (*levels)[1] == "+")) {
        Check((*levels)[2] == client, "subscribe allowed to another device's topics" + ctx);
      }
    }
  }
}

// OnPublish: identity binding and what a refused publish may cause.
void CheckDecision(const core::Engine& e, const core::Inbound& in, const core::Decision& d,
                   bool write_allowed) {
  const auto& opts = e.options();
  const std::string ctx = " (topic '" + Printable(in.topic) + "', user '" + Printable(in.user) +
                          "', client '" + Printable(in.client_id) + "')";
  if (!e.topics().Levels(in.topic)) {
    Check(!d.consumed && d.publish.empty() && d.requests.empty(),
          "a publish outside the prefix was consumed" + ctx);
    return;
  }
  Check(d.consumed, "a publish below the prefix was not consumed" + ctx);
  const bool named = core::IsValidName(in.user, opts.max_name_bytes) &&
                     core::IsValidName(in.client_id, opts.max_name_bytes);
  if (!named) {
    Check(d.publish.empty() && d.requests.empty(), "a client with an unusable name caused work" + ctx);
    return;
  }
  if (!write_allowed) Check(d.requests.empty(), "a publish the ACL refuses reached the store" + ctx);
  const std::string own_events = e.topics().DeviceEvents(in.user, in.client_id);
  auto speaks_as_publisher = [&](const courier::v1::Identity& from) {
    return from.user() == in.user && from.device() == in.client_id;
  };
  for (const auto& p : d.publish) {
    CheckPublishShape(e, p);
    if (p.topic == own_events) {
      Signal s;
      s.ParseFromString(p.payload);
      Check(s.has_error(), "a non-error Signal on the device's own events" + ctx);
      CheckError(s, ctx);
      continue;
    }
    // Anything else is relayed at once (activity, transient messages and
    // their SENDER Signal), and it speaks as the publisher.
    Check(write_allowed, "a refused publish caused a publish to " + Printable(p.topic) + ctx);
    if (EndsWith(p.topic, "/inbox")) {
      Message m;
      m.ParseFromString(p.payload);
      Check(m.transient(), "a stored message was delivered before its commit" + ctx);
      Check(speaks_as_publisher(m.from()), "relayed with a foreign from: " + m.ShortDebugString() + ctx);
      Check(p.topic == e.topics().Inbox(m.to().user()), "relayed to a topic other than to.user's inbox" + ctx);
    } else {
      Signal s;
      s.ParseFromString(p.payload);
      Check(speaks_as_publisher(s.from()), "relayed with a foreign from: " + s.ShortDebugString() + ctx);
      if (s.status() != 0) {
        Check(s.status() >= 1 && s.status() <= 8, "relayed activity with status " + std::to_string(s.status()) + ctx);
        Check(p.topic == e.topics().Events(s.to().user()), "activity to a topic other than to.user's events" + ctx);
      } else {
        Check(p.topic == e.topics().Events(in.user), "a SENDER Signal to another user's events" + ctx);
      }
    }
  }
  for (const auto& r : d.requests) {
    if (auto* a = std::get_if<storage::AppendRequest>(&r)) {
      Check(a->sender == in.user, "append as another sender" + ctx);
      Check(speaks_as_publisher(a->message.from()),
            "append with a foreign from: " + a->message.from().ShortDebugString() + ctx);
      Check(a->group.empty() || a->receivers.empty(), "a group append with receivers" + ctx);
      for (const auto& u : a->receivers) {
        Check(u != a->sender, "the sender is one of the receivers" + ctx);
        Check(core::IsValidName(u, opts.max_name_bytes), "a receiver with an unusable name" + ctx);
      }
      Check(!a->message.id().empty() && a->message.id().size() <= opts.max_id_bytes,
            "append with an id out of bounds" + ctx);
      Check(a->message.payload().size() + a->message.encrypted().size() <= opts.max_payload_bytes,
            "append over max_payload_bytes" + ctx);
      Check(a->message.timestamp() >= 0, "append with a negative timestamp" + ctx);
      Check(a->message.timestamp() <= in.now_ms + int64_t{opts.max_clock_skew_s} * 1000,
            "append with a timestamp too far ahead" + ctx);
      Check(core::IsBase64(a->message.encrypted()) && core::IsBase64(a->message.signature()),
            "append with encrypted/signature that is not base64" + ctx);
      Check(!a->message.transient(), "a transient message was stored" + ctx);
      Check(a->max_undelivered == opts.max_undelivered, "append without the configured quota" + ctx);
    } else if (auto* q = std::get_if<storage::ReceiptRequest>(&r)) {
      Check(q->user == in.user && q->device == in.client_id, "receipt on another user's log" + ctx);
      Check(q->offset >= 1, "receipt for offset " + std::to_string(q->offset) + ctx);
    } else if (auto* pr = std::get_if<storage::PullRequest>(&r)) {
      Check(pr->user == in.user && pr->device == in.client_id, "pull of another user's log" + ctx);
      Check(pr->after >= -1, "pull after " + std::to_string(pr->after) + ctx);
      Check(pr->limit <= opts.max_pull_limit, "pull over max_pull_limit" + ctx);
    } else if (auto* mr = std::get_if<storage::MembersRequest>(&r)) {
      const auto& relay = core::ReplyOf(*mr);
      Check(mr->user == in.user && relay.device == in.client_id, "group relay as another user" + ctx);
      Check(speaks_as_publisher(relay.is_activity ? relay.activity.from() : relay.transient.from()),
            "group relay with a foreign from" + ctx);
    } else if (auto* pr = std::get_if<storage::PushRegisterRequest>(&r)) {
      Check(pr->user == in.user && pr->device == in.client_id, "push registration for another device" + ctx);
      Check(pr->token.size() <= core::kMaxPushTokenBytes && pr->app.size() <= core::kMaxPushAppBytes,
            "push registration over its bounds" + ctx);
    } else {
      Fail("a client publish made a housekeeping or admin request" + ctx);
    }
  }
}

// OnControl ($CONTROL/courier/v1): only admins reach the store; replies go
// to the asking client only.
void CheckControl(const core::Engine& e, const core::Inbound& in, const core::Decision& d) {
  const auto& admins = e.options().admin_users;
  const bool admin = !in.user.empty() && std::find(admins.begin(), admins.end(), in.user) != admins.end();
  const std::string ctx = " (user '" + Printable(in.user) + "', client '" + Printable(in.client_id) + "')";
  if (!admin) Check(d.requests.empty(), "a non-admin's command reached the store" + ctx);
  for (const auto& p : d.publish) {
    Check(p.topic == core::kAdminResponseTopic && p.client_id == in.client_id,
          "an admin reply to " + Printable(p.topic) + " for '" + Printable(p.client_id) + "'" + ctx);
  }
  for (const auto& r : d.requests) {
    auto* a = std::get_if<storage::AdminRequest>(&r);
    Check(a != nullptr && core::ReplyOf(*a).client_id == in.client_id, "a control publish made a non-admin request" + ctx);
  }
}

// One completion against the model of the store, then OnCompletion.
void Complete(const core::Engine& e, const storage::Completion& c, bool* full) {
  using Code = storage::Status::Code;
  const std::string status = c.status.ToString();
  const auto* append = std::get_if<storage::AppendRequest>(&c.request);
  const bool group_op = (append && !append->group.empty()) ||
                        std::holds_alternative<storage::MembersRequest>(c.request);
  if (!c.status.ok()) {
    switch (c.status.code()) {
      case Code::kFull: *full = true; break;
      case Code::kNotFound:
        Check(std::holds_alternative<storage::ReceiptRequest>(c.request) || group_op,
              "not found for a request that names no offset or group: " + status);
        break;
      case Code::kForbidden:
        Check(group_op, "forbidden outside a group: " + status);
        break;
      case Code::kLimit:
        Check(append && append->max_undelivered > 0, "limit without a quota: " + status);
        break;
      case Code::kInvalid:
        // A device whose user and client id together are too long for a
        // push key gets invalid_push_registration; anything else would be
        // the error "internal".
        Check(std::holds_alternative<storage::PushRegisterRequest>(c.request),
              "the store found a request from valid core output invalid: " + status);
        break;
      default:
        // kIoError/kCorruption
        // "store_unavailable": none may come from client input.
        Fail("the store failed a request from valid core output: " + status);
    }
  } else if (append) {
    const auto& res = std::get<storage::AppendResult>(c.result);
    if (res.refused != storage::ReplaceRefusal::kNone) {
      Check(res.receiver_copies.empty() && !res.duplicate, "a refused edit wrote copies");
    } else if (!res.duplicate) {
      World& w = *world;
      Check(res.device_copy.signal_offset() == ++w.heads[append->sender],
            "sender offset " + std::to_string(res.device_copy.signal_offset()) + " is not head+1 (" +
                std::to_string(w.heads[append->sender]) + ") for " + Printable(append->sender));
      Check(res.device_copy.user_offset() == ++w.convs[append->conversation],
            "user_offset is not the conversation's next");
      Check(res.device_copy.signal_type() == kSignalTypeDevice, "device copy without DEVICE type");
      Check(res.receiver_copies.size() == res.receivers.size(), "not one copy per receiver");
      if (append->group.empty()) Check(res.receivers == append->receivers, "copies for other receivers");
      for (size_t i = 0; i < res.receiver_copies.size(); ++i) {
        const auto& copy = res.receiver_copies[i];
        Check(res.receivers[i] != append->sender, "a RECEIVER copy for the sender");
        Check(copy.signal_offset() == ++w.heads[res.receivers[i]], "receiver offset is not head+1");
        Check(copy.signal_type() == kSignalTypeReceiver, "receiver copy without RECEIVER type");
        Check(copy.from().user() == append->sender, "receiver copy with a foreign from");
        Check(copy.user_offset() == res.device_copy.user_offset(), "copies with different user_offsets");
      }
    } else {
      Check(res.device_copy.from().user() == append->sender, "duplicate answered with another user's copy");
    }
  } else if (auto* q = std::get_if<storage::ReceiptRequest>(&c.request)) {
    const auto& res = std::get<storage::ReceiptResult>(c.result);
    Check(res.entry.signal_offset() == q->offset, "receipt answered with another entry");
    Check(q->offset <= world->heads[q->user], "receipt found an entry beyond the head");
    if (res.peer) {
      Check(res.entry.signal_type() == kSignalTypeReceiver, "a receipt touched a peer of a non-RECEIVER copy");
      Check(res.peer->signal_type() == kSignalTypeDevice && res.peer->id() == res.entry.id() &&
                res.peer->from().user() == res.peer_user && res.entry.from().user() == res.peer_user,
            "a receipt touched a copy that is not its peer");
    }
    if (res.changed) Check(res.entry.signal_type() == kSignalTypeReceiver, "a receipt changed a DEVICE copy");
  } else if (auto* pr = std::get_if<storage::PullRequest>(&c.request)) {
    const auto& res = std::get<storage::PullResult>(c.result);
    Check(res.head == world->heads[pr->user], "pull head " + std::to_string(res.head) + " is not the model's " +
                                                  std::to_string(world->heads[pr->user]));
    Check(res.entries.size() <= pr->limit, "pull returned more than its limit");
    const int32_t after = pr->after >= 0 ? pr->after : 0;
    std::set<int32_t> seen;
    for (const auto& m : res.entries) {
      // A batch may be ordered by priority, but holds each offset once,
      // all after `after` and at most the head.
      Check(m.signal_offset() > after && m.signal_offset() <= res.head && seen.insert(m.signal_offset()).second,
            "pull returned offset " + std::to_string(m.signal_offset()) + " (after " + std::to_string(after) +
                ", head " + std::to_string(res.head) + ")");
    }
  }
  const auto* admin = std::get_if<storage::AdminRequest>(&c.request);
  for (const auto& p : e.OnCompletion(c)) {
    CheckPublishShape(e, p);
    if (admin) {
      Check(p.topic == core::kAdminResponseTopic && p.client_id == core::ReplyOf(*admin).client_id,
            "an admin reply to someone else: " + Printable(p.topic) + " for '" + Printable(p.client_id) + "'");
    }
    Signal s;
    if (EndsWith(p.topic, "/events") && s.ParseFromString(p.payload) && s.has_error()) {
      CheckError(s, " (completion " + status + ")");
    }
  }
}

void Flush() {
  World& w = *world;
  if (w.store->pending() == 0) return;
  bool full = false;
  auto done = w.store->Flush();
  Check(done.size() == w.pending.size(), "LMDB returned fewer completions than requests");
  for (const auto& c : done) {
    const core::Engine* e = w.pending.front();
    w.pending.pop_front();
    Complete(*e, c, &full);
  }
  Check(w.store->pending() == 0, "requests left after a flush");
  if (full) OpenStore();
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
  for (int v = 0; v < kVariants; ++v) world->engines.push_back(std::make_unique<core::Engine>(Variant(v), &world->stats));
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
    const bool write_allowed = core::CheckAccess(engine.topics(), opts, user, client, topic,
                                                 core::Access::kWrite) == core::Verdict::kAllow;
    core::Inbound in{.topic = topic, .payload = rec.payload, .user = user, .client_id = client,
                     .now_ms = NowMs(rec, i)};
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
