#include "support/trace_replayer.h"

#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <variant>

#include "messaging.pb.h"
#include "session.h"

namespace courier::testing {

namespace {

using nlohmann::json;
namespace cd = courier::client::detail;
namespace cc = courier::client;

constexpr const char* kStatuses[] = {"none",   "chatting",  "recording", "played",      "typing",
                                     "paused", "cancelled", "resume",    "notification"};

std::string Hex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) { out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)); }
  return out;
}

// Subset matching with $any / $capture / $ref (README, "Expectations").
class Matcher {
 public:
  json Resolve(const json& v) const {
    if (v.is_array()) {
      json out = json::array();
      for (const auto& x : v) out.push_back(Resolve(x));
      return out;
    }
    if (v.is_object()) {
      if (v.contains("$ref")) {
        auto it = vars_.find(v["$ref"].get<std::string>());
        if (it == vars_.end()) throw std::runtime_error("$ref " + v["$ref"].dump() + " never captured");
        return it->second;
      }
      json out = json::object();
      for (auto it = v.begin(); it != v.end(); ++it) out[it.key()] = Resolve(it.value());
      return out;
    }
    return v;
  }

  void Match(const std::string& path, const json& want, const json& got, std::vector<std::string>* errs) {
    if (want.is_object()) {
      if (want.contains("$any")) return;
      if (want.contains("$capture")) {
        const std::string name = want["$capture"].get<std::string>();
        if (auto it = vars_.find(name); it != vars_.end()) {
          Match(path, it->second, got, errs);
        } else {
          vars_[name] = got;
        }
        return;
      }
      if (want.contains("$ref")) return Match(path, Resolve(want), got, errs);
      if (!got.is_object()) {
        errs->push_back(path + ": want an object, got " + got.dump());
        return;
      }
      for (auto it = want.begin(); it != want.end(); ++it) {
        Match(path + "." + it.key(), it.value(), got.contains(it.key()) ? got[it.key()] : json(), errs);
      }
      return;
    }
    if (want.is_array()) {
      if (!got.is_array() || got.size() != want.size()) {
        errs->push_back(path + ": want " + want.dump() + ", got " + got.dump());
        return;
      }
      for (size_t i = 0; i < want.size(); ++i) { Match(path + "[" + std::to_string(i) + "]", want[i], got[i], errs); }
      return;
    }
    // int64 fields are strings in proto JSON: a number equals a numeric string.
    bool same = want == got;
    if (!same && (want.is_number() || got.is_number())) {
      auto text = [](const json& j) { return j.is_string() ? j.get<std::string>() : j.dump(); };
      same = text(want) == text(got);
    }
    if (!same) errs->push_back(path + ": want " + want.dump() + ", got " + got.dump());
  }

 private:
  std::map<std::string, json> vars_;
};

const char* KindName(cc::Kind k) {
  switch (k) {
    case cc::Kind::kSender: return "sender";
    case cc::Kind::kDevice: return "device";
    case cc::Kind::kReceiver: return "receiver";
    default: return "unknown";
  }
}

json IdentityJson(const cc::Identity& i) { return {{"user", i.user}, {"device", i.device}, {"group", i.group}}; }
json StateJson(const cc::AckState& s) { return {{"sent", s.sent}, {"received", s.received}, {"read", s.read}}; }

template <typename Proto>
json ProtoJson(const std::string& bytes) {
  Proto p;
  if (!p.ParseFromString(bytes)) return "undecodable";
  google::protobuf::util::JsonPrintOptions o;
  o.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(p, &out, o);
  return json::parse(out);
}

template <typename Proto>
std::string ProtoBytes(const json& j) {
  Proto p;
  const auto st = google::protobuf::util::JsonStringToMessage(j.dump(), &p);
  if (!st.ok()) throw std::runtime_error("bad proto JSON " + j.dump() + ": " + st.ToString());
  return p.SerializeAsString();
}

// The trace's view of one action; null for what traces do not see.
struct Seen {
  json publishes = json::array(), subscribes = json::array(), events = json::array();
};

void Record(cd::Action& a, Seen* seen) {
  std::visit(
      [seen](auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, cd::PublishAction>) {
          const bool send = v.topic.size() >= 5 && v.topic.ends_with("/send");
          seen->publishes.push_back({{"topic", v.topic},
                                     {"qos", v.qos},
                                     {send ? "message" : "signal", send ? ProtoJson<courier::v1::Message>(v.bytes)
                                                                        : ProtoJson<courier::v1::Signal>(v.bytes)}});
        } else if constexpr (std::is_same_v<T, cd::SubscribeAction>) {
          seen->subscribes.push_back(v.topics);
        } else if constexpr (std::is_same_v<T, cc::Message>) {
          seen->events.push_back({{"event", "message"},
                                  {"id", v.id},
                                  {"offset", v.offset},
                                  {"userOffset", v.user_offset},
                                  {"kind", KindName(v.kind)},
                                  {"from", IdentityJson(v.from)},
                                  {"to", IdentityJson(v.to)},
                                  {"timestamp", v.timestamp},
                                  {"serverTimestamp", v.server_timestamp},
                                  {"text", v.payload},
                                  {"type", v.type},
                                  {"transient", v.transient},
                                  {"pulled", v.pulled},
                                  {"state", StateJson(v.state)},
                                  {"edited", v.edited},
                                  {"recalled", v.recalled},
                                  {"replaces", v.replaces},
                                  {"recall", v.recall}});
        } else if constexpr (std::is_same_v<T, cc::Receipt>) {
          seen->events.push_back({{"event", "receipt"},
                                  {"kind", KindName(v.kind)},
                                  {"id", v.id},
                                  {"offset", v.offset},
                                  {"userOffset", v.user_offset},
                                  {"state", StateJson(v.state)},
                                  {"from", IdentityJson(v.from)},
                                  {"to", IdentityJson(v.to)},
                                  {"timestamp", v.timestamp},
                                  {"recipients", v.recipients},
                                  {"receivedCount", v.received_count},
                                  {"readCount", v.read_count}});
        } else if constexpr (std::is_same_v<T, cc::Activity>) {
          const int s = static_cast<int>(v.status);
          seen->events.push_back({{"event", "activity"},
                                  {"from", IdentityJson(v.from)},
                                  {"to", IdentityJson(v.to)},
                                  {"status", s >= 0 && s <= 8 ? kStatuses[s] : "unknown"},
                                  {"timestamp", v.timestamp}});
        } else if constexpr (std::is_same_v<T, cc::ServerError>) {
          seen->events.push_back({{"event", "error"},
                                  {"code", v.code},
                                  {"detail", v.detail},
                                  {"id", v.id},
                                  {"permanent", v.permanent},
                                  {"local", v.local}});
        } else if constexpr (std::is_same_v<T, cd::SyncedEvent>) {
          seen->events.push_back({{"event", "synced"}, {"head", v.head}});
        } else if constexpr (std::is_same_v<T, cd::SendDone>) {
          const cc::SendResult& r = v.result;
          if (r.ok) {
            seen->events.push_back({{"event", "sendResolved"},
                                    {"id", r.id},
                                    {"offset", r.offset},
                                    {"userOffset", r.user_offset},
                                    {"serverTimestamp", r.server_timestamp},
                                    {"attempts", r.attempts}});
          } else {
            seen->events.push_back(
                {{"event", "sendRejected"}, {"id", r.id}, {"code", r.error_code}, {"detail", r.error_detail}});
          }
        }
      },
      a);
}

// A `throws` send: the Session ends it at once (SendDone with the code) and
// publishes nothing.
void CheckRefused(const std::string& where, const json& want, const Seen& seen, std::vector<std::string>* errs) {
  const std::string code = want.at("code").get<std::string>();
  if (!seen.publishes.empty()) errs->push_back(where + ": refused send published " + seen.publishes.dump());
  const bool refused = seen.events.size() == 1 && seen.events[0].value("event", "") == "sendRejected" &&
                       seen.events[0].value("code", "") == code;
  if (!refused) errs->push_back(where + ": expected one sendRejected " + code + ", got " + seen.events.dump());
}

cd::SessionConfig ConfigOf(const json& s) {
  cd::SessionConfig c;
  c.user = s.at("user").get<std::string>();
  c.device = s.at("device").get<std::string>();
  c.prefix = s.value("prefix", "msg");
  if (s.contains("cursor") && !s["cursor"].is_null()) c.cursor = s["cursor"].get<int32_t>();
  c.pull_limit = s.value("pullLimit", 100u);
  c.pull_timeout_ms = s.value("pullTimeoutMs", int64_t{10000});
  if (s.contains("retry")) {
    c.retry = {std::chrono::milliseconds(s["retry"].value("initialMs", 1000)),
               std::chrono::milliseconds(s["retry"].value("maxMs", 15000))};
  }
  c.pull_id_prefix = "pull-";
  c.head_id_prefix = "head-";
  c.random = [] { return 0.5; };  // traces have no jitter
  return c;
}

cc::Identity ToIdentity(const json& to) {
  return cc::Identity{.user = to.value("user", ""), .group = to.value("group", "")};
}

// One trace's replay: the Session, the trace's clock, the values the
// Matcher captured, and the handles and ids the steps have used.
class Replayer {
 public:
  explicit Replayer(const json& cfg) : now_(cfg.value("startTime", int64_t{1700000000000})), session_(ConfigOf(cfg)) {}

  // Runs one step on the Session; false for a step no trace may have.
  bool Do(const std::string& what, const json& step) {
    if (what == "connect") {
      session_.OnConnected(now_);
      session_.OnSubscribed(now_);
    } else if (what == "disconnect") {
      session_.OnConnectionLost(step.value("reason", "test"), now_);
    } else if (what == "advance") {
      now_ += step.at("ms").get<int64_t>();
      session_.Tick(now_);
    } else if (what == "receive") {
      const std::string bytes = Received(step);
      session_.OnPublish(step.at("topic").get<std::string>(), bytes, now_);
    } else if (what == "send") {
      Send(step);
    } else if (what == "markReceived" || what == "markRead") {
      session_.Mark(next_handle_++, step.at("offset").get<int32_t>(), what == "markRead", now_, step.value("id", ""));
    } else if (what == "setActivity") {
      SetActivity(step);
    } else {
      return false;
    }
    return true;
  }

  // Compares what the Session did in the step with its `throws` and `expect`.
  void Check(const std::string& where, const json& step, std::vector<std::string>* errs) {
    Seen seen;
    for (auto& a : session_.TakeActions()) Record(a, &seen);
    if (step.contains("throws")) CheckRefused(where, step["throws"], seen, errs);
    if (!step.contains("expect")) return;  // checks nothing
    const json& want = step["expect"];
    m_.Match(where + " publish", want.value("publish", json::array()), seen.publishes, errs);
    m_.Match(where + " subscribe", want.value("subscribe", json::array()), seen.subscribes, errs);
    m_.Match(where + " events", want.value("events", json::array()), seen.events, errs);
    if (want.contains("cursor")) {
      const auto c = session_.cursor();
      m_.Match(where + " cursor", want["cursor"], c ? json(*c) : json(), errs);
    }
    if (want.contains("nextDeadline")) {
      const auto d = session_.NextDeadline();
      m_.Match(where + " nextDeadline", want["nextDeadline"], d ? json(*d) : json(), errs);
    }
  }

 private:
  // The bytes of a `receive` step: raw hex, or a message or signal as JSON.
  std::string Received(const json& step) const {
    if (step.contains("raw")) return Hex(step["raw"].get<std::string>());
    if (step.contains("message")) return ProtoBytes<courier::v1::Message>(m_.Resolve(step["message"]));
    return ProtoBytes<courier::v1::Signal>(m_.Resolve(step.at("signal")));
  }

  void Send(const json& step) {
    const json o = step.value("options", json::object());
    cd::Outgoing out{.to = ToIdentity(step.at("to")),
                     .payload = step.contains("text") ? step["text"].get<std::string>() : Hex(step.value("hex", "")),
                     .replaces = o.value("replaces", ""),
                     .recall = o.value("recall", false)};
    cc::SendOptions so;
    so.id = o.contains("id") ? o["id"].get<std::string>() : "id-" + std::to_string(++next_id_);
    so.type = o.value("type", 0u);
    so.expiry = o.value("expiry", 0u);
    so.priority = o.value("priority", 0u);
    so.transient = o.value("transient", false);
    so.timestamp = o.value("timestamp", int64_t{0});
    so.timeout = std::chrono::milliseconds(o.value("timeout", int64_t{0}));
    session_.Send(next_handle_++, std::move(out), so, now_);
  }

  void SetActivity(const json& step) {
    const std::string name = step.at("status").get<std::string>();
    int status = 0;
    for (int s = 0; s <= 8; ++s) {
      if (name == kStatuses[s]) status = s;
    }
    session_.SetActivity(next_handle_++, ToIdentity(step.at("to")), static_cast<cc::Status>(status), now_);
  }

  int64_t now_;
  cd::Session session_;
  Matcher m_;
  cd::Handle next_handle_ = 1;
  int next_id_ = 0;
};

}  // namespace

TraceResult ReplayTraceFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  const json trace = json::parse(in);
  TraceResult res;
  res.name = trace.value("name", path);
  Replayer replayer(trace.at("session"));

  int i = 0;
  for (const json& step : trace.at("steps")) {
    ++i;
    ++res.steps;
    const std::string what = step.at("do").get<std::string>();
    const std::string where = "step " + std::to_string(i) + " (" + what + ")";
    if (step.contains("throws") && what != "send") {
      ++res.skipped;
      continue;
    }
    try {
      if (!replayer.Do(what, step)) {
        res.failures.push_back(where + ": unknown step");
        continue;
      }
    } catch (const std::exception& e) {
      res.failures.push_back(where + ": threw " + e.what());
      continue;
    }
    replayer.Check(where, step, &res.failures);
  }
  return res;
}

}  // namespace courier::testing
