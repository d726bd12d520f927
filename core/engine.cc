#include "engine.h"

#include <algorithm>

#include "replies.h"
#include "validate.h"
#include "wire.h"

namespace courier::core {
namespace {

using courier::v1::Message;
using courier::v1::Signal;

template <typename Proto>
std::string Serialize(const Proto& p) {
  return p.SerializeAsString();
}

// user_offset counter of a 1:1 conversation: the same key from both sides.
std::string DirectConversation(std::string_view a, std::string_view b) {
  if (b < a) std::swap(a, b);
  std::string key = "u";
  key.push_back('\0');
  key.append(a);
  key.push_back('\0');
  key.append(b);
  return key;
}

courier::v1::Identity Identity(std::string_view user, std::string_view device) {
  courier::v1::Identity id;
  id.set_user(std::string(user));
  id.set_device(std::string(device));
  return id;
}

ErrorCode CodeFor(const storage::Status& s) {
  if (s.code() == storage::Status::Code::kFull) return ErrorCode::kStoreFull;
  if (s.code() == storage::Status::Code::kLimit) return ErrorCode::kQuotaExceeded;
  if (s.transient() || s.code() == storage::Status::Code::kCorruption) {
    return ErrorCode::kStoreUnavailable;
  }
  if (s.code() == storage::Status::Code::kNotFound) return ErrorCode::kUnknownOffset;
  return ErrorCode::kInternal;
}

}  // namespace

Engine::Engine(CoreOptions options) : options_(std::move(options)), topics_(options_.topic_prefix) {}

Decision Engine::OnPublish(const Inbound& in) const {
  auto parsed = topics_.ParseInbound(in.topic);
  if (!parsed) {
    // Other topics under the prefix are the plugin's to publish; the ACL
    // refuses clients there, so whatever reaches this point is dropped.
    return Decision{.consumed = topics_.Levels(in.topic).has_value(), .publish = {}, .requests = {}};
  }
  Decision d{.consumed = true, .publish = {}, .requests = {}};
  if (!IsValidName(in.user, options_.max_name_bytes) ||
      !IsValidName(in.client_id, options_.max_name_bytes)) {
    return d;  // no topic of ours can reach this client: drop
  }
  if (parsed->user != in.user) {
    d.publish.push_back({topics_.DeviceEvents(in.user, in.client_id),
                         Serialize(ErrorSignal("", ErrorCode::kNotAuthorized,
                                               "publish to your own user's topics only"))});
    return d;
  }
  if (in.rate_limited) {
    // Echo the id when the payload has one, so the client knows what to retry.
    std::string id;
    if (parsed->kind == Topics::Inbound::kSend) {
      Message m;
      if (m.ParseFromArray(in.payload.data(), static_cast<int>(in.payload.size()))) id = m.id();
    } else {
      Signal s;
      if (s.ParseFromArray(in.payload.data(), static_cast<int>(in.payload.size()))) id = s.id();
    }
    d.publish.push_back({topics_.DeviceEvents(in.user, in.client_id),
                         Serialize(ErrorSignal(id, ErrorCode::kRateLimited,
                                               "more than " + std::to_string(options_.rate_limit_per_s) +
                                                   " publishes per second"))});
    return d;
  }
  return parsed->kind == Topics::Inbound::kSend ? OnSend(in) : OnSignal(in);
}

Decision Engine::OnSend(const Inbound& in) const {
  Decision d{.consumed = true, .publish = {}, .requests = {}};
  const std::string events = topics_.DeviceEvents(in.user, in.client_id);
  Message m;
  if (!m.ParseFromArray(in.payload.data(), static_cast<int>(in.payload.size()))) {
    d.publish.push_back({events, Serialize(ErrorSignal("", ErrorCode::kBadPayload,
                                                       "not a courier.v1.Message"))});
    return d;
  }
  if (auto bad = ValidateMessage(m, options_, in.now_ms)) {
    d.publish.push_back({events, Serialize(ErrorSignal(m.id(), bad->code, bad->detail))});
    return d;
  }
  // What the client set in server-owned fields is discarded.
  *m.mutable_from() = Identity(in.user, in.client_id);
  m.clear_signal_offset();
  m.clear_user_offset();
  m.clear_signal_type();
  m.clear_signal_request();
  m.set_signal_offset_state(true);
  m.mutable_signal_ack_state()->Clear();
  m.mutable_signal_ack_state()->set_send(true);
  m.set_server_timestamp(in.now_ms);

  storage::AppendRequest req;
  req.sender = std::string(in.user);
  if (m.to().user() != in.user) req.receivers.push_back(m.to().user());
  req.conversation = DirectConversation(in.user, m.to().user());
  req.max_undelivered = options_.max_undelivered;
  req.message = std::move(m);
  d.requests.emplace_back(std::move(req));
  return d;
}

Decision Engine::OnSignal(const Inbound& in) const {
  Decision d{.consumed = true, .publish = {}, .requests = {}};
  const std::string events = topics_.DeviceEvents(in.user, in.client_id);
  Signal s;
  if (!s.ParseFromArray(in.payload.data(), static_cast<int>(in.payload.size()))) {
    d.publish.push_back({events, Serialize(ErrorSignal("", ErrorCode::kBadPayload,
                                                       "not a courier.v1.Signal"))});
    return d;
  }
  auto kind = ClassifySignal(s, options_);
  if (auto* bad = std::get_if<Rejection>(&kind)) {
    d.publish.push_back({events, Serialize(ErrorSignal(s.id(), bad->code, bad->detail))});
    return d;
  }
  auto pull_limit = [&](uint32_t asked) {
    return asked == 0 ? options_.default_pull_limit : std::min(asked, options_.max_pull_limit);
  };
  switch (std::get<SignalKind>(kind)) {
    case SignalKind::kActivity: {
      Signal out;
      out.set_status(s.status());
      out.set_timestamp(s.timestamp() != 0 ? s.timestamp() : in.now_ms);
      *out.mutable_from() = Identity(in.user, in.client_id);
      out.mutable_to()->set_user(s.to().user());
      out.set_type(wire::kRequest);
      d.publish.push_back({topics_.Events(s.to().user()), Serialize(out)});
      break;
    }
    case SignalKind::kReceipt: {
      const bool read = s.signal_ack_state().read();
      d.requests.emplace_back(storage::ReceiptRequest{.id = s.id(),
                                                      .user = std::string(in.user),
                                                      .device = std::string(in.client_id),
                                                      .offset = s.signal_offset(),
                                                      .received = true,
                                                      .read = read});
      if (s.signal_request() == wire::kPull) {
        d.requests.emplace_back(storage::PullRequest{.id = s.id(),
                                                     .user = std::string(in.user),
                                                     .device = std::string(in.client_id),
                                                     .after = s.signal_offset(),
                                                     .limit = s.limit() == 0 ? 1 : pull_limit(s.limit())});
      }
      break;
    }
    case SignalKind::kPull:
    case SignalKind::kPush: {
      const bool push = std::get<SignalKind>(kind) == SignalKind::kPush;
      d.requests.emplace_back(storage::PullRequest{.id = s.id(),
                                                   .user = std::string(in.user),
                                                   .device = std::string(in.client_id),
                                                   .after = push ? -1 : s.signal_offset(),
                                                   .limit = push ? 0 : pull_limit(s.limit())});
      break;
    }
  }
  return d;
}

std::vector<Publish> Engine::OnCompletion(const storage::Completion& done) const {
  std::string id, user, device;
  std::visit(
      [&](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, storage::AppendRequest>) {
          id = r.message.id();
          user = r.sender;
          device = r.message.from().device();
        } else {
          id = r.id;
          user = r.user;
          device = r.device;
        }
      },
      done.request);
  if (!done.status.ok()) {
    return {{topics_.DeviceEvents(user, device),
             Serialize(ErrorSignal(id, CodeFor(done.status), done.status.message()))}};
  }
  if (auto* r = std::get_if<storage::AppendRequest>(&done.request)) {
    return Appended(*r, std::get<storage::AppendResult>(done.result));
  }
  if (auto* r = std::get_if<storage::ReceiptRequest>(&done.request)) {
    return Receipted(*r, std::get<storage::ReceiptResult>(done.result));
  }
  return Pulled(std::get<storage::PullRequest>(done.request),
                std::get<storage::PullResult>(done.result));
}

std::vector<Publish> Engine::Appended(const storage::AppendRequest& req,
                                      const storage::AppendResult& res) const {
  std::vector<Publish> out;
  if (res.duplicate) {
    if (!SameContent(res.device_copy, req.message)) {
      out.push_back({topics_.DeviceEvents(req.sender, req.message.from().device()),
                     Serialize(ErrorSignal(req.message.id(), ErrorCode::kIdConflict,
                                           "id was used for a different message"))});
    } else {
      out.push_back({topics_.Events(req.sender), Serialize(SenderAck(res.device_copy))});
    }
    return out;
  }
  for (size_t i = 0; i < res.receiver_copies.size(); ++i) {
    out.push_back({topics_.Inbox(res.receivers[i]), Serialize(res.receiver_copies[i])});
  }
  out.push_back({topics_.Inbox(req.sender), Serialize(res.device_copy)});
  out.push_back({topics_.Events(req.sender), Serialize(SenderAck(res.device_copy))});
  return out;
}

std::vector<Publish> Engine::Receipted(const storage::ReceiptRequest& req,
                                       const storage::ReceiptResult& res) const {
  std::vector<Publish> out;
  if (!res.changed) return out;  // a repeated receipt changes nothing and says nothing
  const auto reader = Identity(req.user, req.device);
  if (res.peer) {
    out.push_back({topics_.Events(res.peer_user),
                   Serialize(ReceiptNotice(*res.peer, wire::kReceiver, reader))});
  }
  out.push_back({topics_.Events(req.user), Serialize(ReceiptNotice(res.entry, wire::kDevice, reader))});
  return out;
}

std::vector<Publish> Engine::Pulled(const storage::PullRequest& req,
                                    const storage::PullResult& res) const {
  std::vector<Publish> out;
  const std::string inbox = topics_.DeviceInbox(req.user, req.device);
  for (auto m : res.entries) {
    m.set_signal_request(wire::kPull);
    out.push_back({inbox, Serialize(m)});
  }
  out.push_back({topics_.DeviceEvents(req.user, req.device),
                 Serialize(PullResponse(req.id, res.head, static_cast<uint32_t>(res.entries.size())))});
  return out;
}

}  // namespace courier::core
