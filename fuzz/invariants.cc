#include "invariants.h"

#include "reply.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <variant>

#include "acl.h"
#include "admin.h"
#include "echo.h"
#include "error_code.h"
#include "topics.h"
#include "validate.h"

namespace courier::fuzz {

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

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

void CheckPublishShape(const core::Engine& e, const core::Publish& p) {
  if (p.topic == core::kAdminResponseTopic) {
    Check(!p.client_id.empty(), "an admin reply to every subscriber of " + p.topic);
    return;
  }
  Check(p.client_id.empty(), "a publish to one client that is not an admin reply: " + Printable(p.topic));
  auto levels = e.topics().Levels(p.topic);
  Check(levels.has_value(), "publish outside the prefix: " + Printable(p.topic));
  const size_t max = kMaxNameAnyVariant;
  Check(core::IsValidName((*levels)[0], max),
        "publish to a topic whose user level is not a valid name: " + Printable(p.topic));
  if (EndsWith(p.topic, "/inbox")) {
    Message m;
    Check(m.ParseFromString(p.payload), "inbox publish is not a Message: " + Printable(p.topic));
    Check(m.signal_offset() >= 1 || m.transient(),
          "stored message delivered without an offset: " + m.ShortDebugString());
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

void CheckError(const Signal& s, const std::string& ctx) {
  const std::string code = s.error().substr(0, s.error().find(':'));
  for (int i = 0; i < static_cast<int>(core::ErrorCode::kCount); ++i) {
    const auto c = static_cast<core::ErrorCode>(i);
    if (core::Name(c) != code) continue;
    Check(s.type() == (core::IsTransient(c) ? 2 : 3),
          "error '" + s.error() + "' with type " + std::to_string(s.type()) + ctx);
    Check(!s.signal_offset_state(), "error with signal_offset_state true" + ctx);
    Check(c != core::ErrorCode::kInternal, "error 'internal' (a bug by definition): " + s.error() + ctx);
    return;
  }
  Fail("error Signal with an undocumented code: '" + Printable(s.error()) + "'" + ctx);
}

void CheckAcl(const core::Engine& e, std::string_view topic, std::string_view user, std::string_view client) {
  const auto& opts = e.options();
  const auto levels = e.topics().Levels(topic);
  const std::string ctx =
      " (topic '" + Printable(topic) + "', user '" + Printable(user) + "', client '" + Printable(client) + "')";
  for (auto access :
       {core::Access::kRead, core::Access::kWrite, core::Access::kSubscribe, core::Access::kUnsubscribe}) {
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
                topic == e.topics().DeviceInbox(user, client) || topic == e.topics().DeviceEvents(user, client),
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

// Whether `from` is the publisher of `in`.
bool SpeaksAs(const core::Inbound& in, const courier::v1::Identity& from) {
  return from.user() == in.user && from.device() == in.client_id;
}

// What a client's publish may publish at once: errors to its own device,
// or relays (activity, transient messages and their SENDER Signal) that
// speak as the publisher.
void CheckDecisionPublishes(const core::Engine& e, const core::Inbound& in, const core::Decision& d, bool write_allowed,
                            const std::string& ctx) {
  const std::string own_events = e.topics().DeviceEvents(in.user, in.client_id);
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
      Check(SpeaksAs(in, m.from()), "relayed with a foreign from: " + m.ShortDebugString() + ctx);
      Check(p.topic == e.topics().Inbox(m.to().user()), "relayed to a topic other than to.user's inbox" + ctx);
    } else {
      Signal s;
      s.ParseFromString(p.payload);
      Check(SpeaksAs(in, s.from()), "relayed with a foreign from: " + s.ShortDebugString() + ctx);
      if (s.status() != 0) {
        Check(s.status() >= 1 && s.status() <= 8, "relayed activity with status " + std::to_string(s.status()) + ctx);
        Check(p.topic == e.topics().Events(s.to().user()), "activity to a topic other than to.user's events" + ctx);
      } else {
        Check(p.topic == e.topics().Events(in.user), "a SENDER Signal to another user's events" + ctx);
      }
    }
  }
}

// An append: as the publisher, to valid receivers, within the options.
void CheckAppend(const storage::AppendRequest& a, const core::Inbound& in, const core::CoreOptions& opts,
                 const std::string& ctx) {
  Check(a.sender == in.user, "append as another sender" + ctx);
  Check(SpeaksAs(in, a.message.from()), "append with a foreign from: " + a.message.from().ShortDebugString() + ctx);
  Check(a.group.empty() || a.receivers.empty(), "a group append with receivers" + ctx);
  for (const auto& u : a.receivers) {
    Check(u != a.sender, "the sender is one of the receivers" + ctx);
    Check(core::IsValidName(u, opts.max_name_bytes), "a receiver with an unusable name" + ctx);
  }
  Check(!a.message.id().empty() && a.message.id().size() <= opts.max_id_bytes, "append with an id out of bounds" + ctx);
  Check(a.message.payload().size() + a.message.encrypted().size() <= opts.max_payload_bytes,
        "append over max_payload_bytes" + ctx);
  Check(a.message.timestamp() >= 0, "append with a negative timestamp" + ctx);
  Check(a.message.timestamp() <= in.now_ms + int64_t{opts.max_clock_skew_s} * 1000,
        "append with a timestamp too far ahead" + ctx);
  Check(core::IsBase64(a.message.encrypted()) && core::IsBase64(a.message.signature()),
        "append with encrypted/signature that is not base64" + ctx);
  Check(!a.message.transient(), "a transient message was stored" + ctx);
  Check(a.max_undelivered == opts.max_undelivered, "append without the configured quota" + ctx);
}

// What a client's publish may ask of the store: only its own log and device.
void CheckDecisionRequests(const core::Inbound& in, const core::Decision& d, const core::CoreOptions& opts,
                           const std::string& ctx) {
  for (const auto& r : d.requests) {
    if (auto* a = std::get_if<storage::AppendRequest>(&r)) {
      CheckAppend(*a, in, opts, ctx);
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
      Check(SpeaksAs(in, relay.is_activity ? relay.activity.from() : relay.transient.from()),
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

void CheckDecision(const core::Engine& e, const core::Inbound& in, const core::Decision& d, bool write_allowed) {
  const auto& opts = e.options();
  const std::string ctx = " (topic '" + Printable(in.topic) + "', user '" + Printable(in.user) + "', client '" +
                          Printable(in.client_id) + "')";
  if (!e.topics().Levels(in.topic)) {
    Check(!d.consumed && d.publish.empty() && d.requests.empty(), "a publish outside the prefix was consumed" + ctx);
    return;
  }
  Check(d.consumed, "a publish below the prefix was not consumed" + ctx);
  const bool named =
      core::IsValidName(in.user, opts.max_name_bytes) && core::IsValidName(in.client_id, opts.max_name_bytes);
  if (!named) {
    Check(d.publish.empty() && d.requests.empty(), "a client with an unusable name caused work" + ctx);
    return;
  }
  if (!write_allowed) Check(d.requests.empty(), "a publish the ACL refuses reached the store" + ctx);
  CheckDecisionPublishes(e, in, d, write_allowed, ctx);
  CheckDecisionRequests(in, d, opts, ctx);
}

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
    Check(a != nullptr && core::ReplyOf(*a).client_id == in.client_id,
          "a control publish made a non-admin request" + ctx);
  }
}

}  // namespace courier::fuzz
