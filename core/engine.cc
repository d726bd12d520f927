#include "engine.h"

#include <algorithm>

#include "admin.h"
#include "edit.h"
#include "replies.h"
#include "reply.h"
#include "validate.h"
#include "wire.h"

namespace courier::core {
namespace {

using courier::v1::Message;
using courier::v1::Signal;

// Signals (acks, receipts, errors, activity) and transient copies go at QoS 0:
// losing one with a dropped connection loses nothing the protocol needs (the
// client retries, dedup answers; states are in the stored copies), and it
// saves the broker one PUBACK to read per publish. Stored copies and pull
// answers go at options_.delivery_qos, all the same, so none overtakes another.
constexpr int kQos0 = 0;

// Work done per housekeeping call: small enough never to stall the broker.
constexpr uint32_t kExpireSlice = 1000;
constexpr uint32_t kTrimSlice = 1000;

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
  using Code = storage::Status::Code;
  switch (s.code()) {
    case Code::kFull: return ErrorCode::kStoreFull;
    case Code::kLimit: return ErrorCode::kQuotaExceeded;
    case Code::kIoError:
    case Code::kCorruption: return ErrorCode::kStoreUnavailable;
    case Code::kNotFound: return ErrorCode::kUnknownOffset;
    case Code::kForbidden: return ErrorCode::kNotMember;
    case Code::kOk:
    case Code::kInvalid: break;
  }
  return ErrorCode::kInternal;
}

}  // namespace

Engine::Engine(CoreOptions options, Stats* stats)
    : options_(std::move(options)), topics_(options_.topic_prefix), stats_(stats) {}

Publish Engine::Error(std::string_view user, std::string_view device, std::string_view id, ErrorCode code,
                      std::string_view detail) const {
  if (stats_) stats_->CountError(code);
  return {topics_.DeviceEvents(user, device), Serialize(ErrorSignal(id, code, detail)), {}, kQos0};
}

Decision Engine::OnPublish(const Inbound& in) const {
  auto parsed = topics_.ParseInbound(in.topic);
  if (!parsed) {
    // Other topics under the prefix are the plugin's to publish; the ACL
    // refuses clients there, so whatever reaches this point is dropped.
    return Decision{.consumed = topics_.Levels(in.topic).has_value(), .publish = {}, .requests = {}};
  }
  Decision d{.consumed = true, .publish = {}, .requests = {}};
  if (!IsValidName(in.user, options_.max_name_bytes) || !IsValidName(in.client_id, options_.max_name_bytes)) {
    return d;  // no topic of ours can reach this client: drop
  }
  if (parsed->user != in.user) {
    d.publish.push_back(
        Error(in.user, in.client_id, "", ErrorCode::kNotAuthorized, "publish to your own user's topics only"));
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
    d.publish.push_back(Error(in.user, in.client_id, id, ErrorCode::kRateLimited,
                              "more than " + std::to_string(options_.rate_limit_per_s) + " publishes per second"));
    return d;
  }
  return parsed->kind == Topics::Inbound::kSend ? OnSend(in) : OnSignal(in);
}

bool Engine::IsAdmin(std::string_view user) const {
  const auto& admins = options_.admin_users;
  return !user.empty() && std::find(admins.begin(), admins.end(), user) != admins.end();
}

Decision Engine::OnControl(const Inbound& in) const {
  Decision d{.consumed = true, .publish = {}, .requests = {}};
  if (in.client_id.empty()) return d;
  storage::AdminRequest req = ParseAdminRequest(in.payload, IsAdmin(in.user), options_, in.now_ms, in.client_id);
  const bool needs_store = std::any_of(req.ops.begin(), req.ops.end(), [](const storage::AdminOp& op) {
    return op.kind != storage::AdminOp::Kind::kNone;
  });
  if (needs_store) {
    d.requests.emplace_back(std::move(req));
  } else {
    // Nothing to read or write: answer at once (errors, getStats).
    storage::AdminResult empty;
    empty.results.resize(req.ops.size());
    d.publish.push_back(
        {std::string(kAdminResponseTopic), AdminResponse(req, &empty, "", stats_), ReplyOf(req).client_id});
  }
  return d;
}

Decision Engine::OnSend(const Inbound& in) const {
  Decision d{.consumed = true, .publish = {}, .requests = {}};
  Message m;
  if (!m.ParseFromArray(in.payload.data(), static_cast<int>(in.payload.size()))) {
    d.publish.push_back(Error(in.user, in.client_id, "", ErrorCode::kBadPayload, "not a courier.v1.Message"));
    return d;
  }
  if (auto bad = ValidateMessage(m, options_, in.now_ms)) {
    d.publish.push_back(Error(in.user, in.client_id, m.id(), bad->code, bad->detail));
    return d;
  }
  // Fields this schema does not define are not stored or relayed: they
  // would carry bytes past max_payload_bytes. Checked first because the
  // discard walks the message by reflection, and this runs per message;
  // `from` and the ack state are replaced below.
  auto has_unknown = [](const google::protobuf::Message& x) { return !x.GetReflection()->GetUnknownFields(x).empty(); };
  if (has_unknown(m) || has_unknown(m.to())) m.DiscardUnknownFields();
  // What the client set in server-owned fields is discarded.
  *m.mutable_from() = Identity(in.user, in.client_id);
  m.clear_signal_offset();
  m.clear_user_offset();
  m.clear_signal_type();
  m.clear_signal_request();
  m.clear_edited();
  m.clear_recalled();
  m.set_signal_offset_state(true);
  m.mutable_signal_ack_state()->Clear();
  m.mutable_signal_ack_state()->set_send(true);
  m.set_server_timestamp(in.now_ms);
  const std::string group = m.to().group();

  if (m.transient()) {
    // Fire-and-forget: relayed now to whoever is online, never stored.
    m.clear_expiry();
    if (!group.empty()) {
      storage::MembersRequest req{.user = std::string(in.user),
                                  .group = group,
                                  .reply = MakeReply(RelayReply{.id = m.id(),
                                                                .device = std::string(in.client_id),
                                                                .is_activity = false,
                                                                .activity = {},
                                                                .transient = m})};
      d.requests.emplace_back(std::move(req));
      return d;
    }
    if (stats_) ++stats_->relayed;
    m.set_signal_type(v1::SIGNAL_TYPE_RECEIVER);
    if (m.to().user() != in.user) d.publish.push_back({topics_.Inbox(m.to().user()), Serialize(m), {}, kQos0});
    d.publish.push_back({topics_.Events(in.user), Serialize(TransientAck(m)), {}, kQos0});
    return d;
  }

  uint32_t expiry = m.expiry() != 0 ? m.expiry() : options_.default_expiry_s;
  if (options_.max_expiry_s != 0 && (expiry == 0 || expiry > options_.max_expiry_s)) { expiry = options_.max_expiry_s; }
  m.set_expiry(expiry);

  storage::AppendRequest req;
  req.sender = std::string(in.user);
  if (!group.empty()) {
    req.group = group;
    req.conversation = GroupConversation(group);
  } else {
    if (m.to().user() != in.user) req.receivers.push_back(m.to().user());
    req.conversation = DirectConversation(in.user, m.to().user());
  }
  req.max_undelivered = options_.max_undelivered;
  req.expires_ms = expiry != 0 ? in.now_ms + int64_t{expiry} * 1000 : 0;
  if (IsReplace(m)) req.replace_not_before_ms = ReplaceNotBefore(m, options_, in.now_ms);
  req.push = options_.push;
  req.push_payload = options_.push_payload;
  req.message = std::move(m);
  d.requests.emplace_back(std::move(req));
  return d;
}

Decision Engine::OnSignal(const Inbound& in) const {
  Decision d{.consumed = true, .publish = {}, .requests = {}};
  Signal s;
  if (!s.ParseFromArray(in.payload.data(), static_cast<int>(in.payload.size()))) {
    d.publish.push_back(Error(in.user, in.client_id, "", ErrorCode::kBadPayload, "not a courier.v1.Signal"));
    return d;
  }
  auto kind = ClassifySignal(s, options_);
  if (auto* bad = std::get_if<Rejection>(&kind)) {
    d.publish.push_back(Error(in.user, in.client_id, s.id(), bad->code, bad->detail));
    return d;
  }
  auto pull_limit = [&](uint32_t asked) {
    return asked == 0 ? options_.default_pull_limit : std::min(asked, options_.max_pull_limit);
  };
  const std::string user(in.user), device(in.client_id);
  switch (std::get<SignalKind>(kind)) {
    case SignalKind::kActivity: {
      Signal out;
      out.set_id(s.id());
      out.set_status(s.status());
      out.set_timestamp(s.timestamp() != 0 ? s.timestamp() : in.now_ms);
      *out.mutable_from() = Identity(in.user, in.client_id);
      *out.mutable_to() = s.to();
      out.mutable_to()->clear_device();
      out.set_type(v1::SIGNAL_KIND_REQUEST);
      if (!s.to().group().empty()) {
        d.requests.emplace_back(storage::MembersRequest{
            .user = user,
            .group = s.to().group(),
            .reply = MakeReply(
                RelayReply{.id = s.id(), .device = device, .is_activity = true, .activity = out, .transient = {}})});
      } else {
        if (stats_) ++stats_->relayed;
        d.publish.push_back({topics_.Events(s.to().user()), Serialize(out), {}, kQos0});
      }
      break;
    }
    case SignalKind::kReceipt: {
      // One reply for the receipt and the pull it may ask for: both echo the id.
      const storage::ReplyTag reply = MakeReply(SignalReply{s.id()});
      d.requests.emplace_back(storage::ReceiptRequest{.user = user,
                                                      .device = device,
                                                      .offset = s.signal_offset(),
                                                      .received = true,
                                                      .read = s.signal_ack_state().read(),
                                                      .reply = reply});
      if (s.signal_request() == v1::SIGNAL_REQUEST_PULL) {
        d.requests.emplace_back(storage::PullRequest{.user = user,
                                                     .device = device,
                                                     .after = s.signal_offset(),
                                                     .limit = s.limit() == 0 ? 1 : pull_limit(s.limit()),
                                                     .now_ms = in.now_ms,
                                                     .reply = reply});
      }
      break;
    }
    case SignalKind::kPushRegistration:
      d.requests.emplace_back(storage::PushRegisterRequest{.user = user,
                                                           .device = device,
                                                           .app = s.push().app(),
                                                           .token = s.push().token(),
                                                           .now_ms = in.now_ms,
                                                           .reply = MakeReply(SignalReply{s.id()})});
      break;
    case SignalKind::kPull:
    case SignalKind::kPush: {
      const bool push = std::get<SignalKind>(kind) == SignalKind::kPush;
      d.requests.emplace_back(storage::PullRequest{.user = user,
                                                   .device = device,
                                                   .after = push ? -1 : s.signal_offset(),
                                                   .limit = push ? 0 : pull_limit(s.limit()),
                                                   .now_ms = in.now_ms,
                                                   .reply = MakeReply(SignalReply{s.id()})});
      break;
    }
  }
  return d;
}

std::vector<storage::Request> Engine::Housekeeping(int64_t now_ms, int64_t retention_ms) const {
  std::vector<storage::Request> out;
  out.emplace_back(storage::ExpireRequest{.now_ms = now_ms, .max_entries = kExpireSlice});
  if (retention_ms > 0) {
    out.emplace_back(storage::TrimRequest{.older_than_ms = now_ms - retention_ms, .max_entries = kTrimSlice});
  }
  return out;
}

namespace {
// The result type the store answers each request type with.
template <typename Request>
struct ResultOf;
// A table: one request type and its result per line.
// clang-format off
template <> struct ResultOf<storage::AppendRequest> { using type = storage::AppendResult; };
template <> struct ResultOf<storage::ReceiptRequest> { using type = storage::ReceiptResult; };
template <> struct ResultOf<storage::PullRequest> { using type = storage::PullResult; };
template <> struct ResultOf<storage::MembersRequest> { using type = storage::MembersResult; };
template <> struct ResultOf<storage::ExpireRequest> { using type = storage::ExpireResult; };
template <> struct ResultOf<storage::TrimRequest> { using type = storage::TrimResult; };
template <> struct ResultOf<storage::AdminRequest> { using type = storage::AdminResult; };
template <> struct ResultOf<storage::PushRegisterRequest> { using type = storage::PushRegisterResult; };
template <> struct ResultOf<storage::PushDoneRequest> { using type = storage::PushDoneResult; };
template <> struct ResultOf<storage::PushScanRequest> { using type = storage::PushScanResult; };
// clang-format on
}  // namespace

std::vector<Publish> Engine::OnCompletion(const storage::Completion& done) const {
  if (!done.status.ok()) return Failed(done);
  return std::visit(
      [&](const auto& req) -> std::vector<Publish> {
        using T = std::decay_t<decltype(req)>;
        using R = typename ResultOf<T>::type;
        const R* res = std::get_if<R>(&done.result);
        if (!res) return {};  // a store bug; nothing sensible to publish
        return Done(req, *res);
      },
      done.request);
}

std::vector<Publish> Engine::Failed(const storage::Completion& done) const {
  const ErrorCode code = CodeFor(done.status);
  const std::string& detail = done.status.message();
  if (auto* r = std::get_if<storage::AppendRequest>(&done.request)) {
    ErrorCode c = code;
    if (!r->group.empty() && done.status.code() == storage::Status::Code::kNotFound) c = ErrorCode::kUnknownGroup;
    return {Error(r->sender, r->message.from().device(), r->message.id(), c, detail)};
  }
  if (auto* r = std::get_if<storage::ReceiptRequest>(&done.request)) {
    return {Error(r->user, r->device, ReplyOf(*r).id, code, detail)};
  }
  if (auto* r = std::get_if<storage::PullRequest>(&done.request)) {
    return {Error(r->user, r->device, ReplyOf(*r).id, code, detail)};
  }
  if (auto* r = std::get_if<storage::PushRegisterRequest>(&done.request)) {
    ErrorCode c = done.status.code() == storage::Status::Code::kInvalid ? ErrorCode::kInvalidPushRegistration : code;
    return {Error(r->user, r->device, ReplyOf(*r).id, c, detail)};
  }
  if (auto* r = std::get_if<storage::MembersRequest>(&done.request)) {
    ErrorCode c = done.status.code() == storage::Status::Code::kNotFound ? ErrorCode::kUnknownGroup : code;
    const RelayReply& reply = ReplyOf(*r);
    return {Error(r->user, reply.device, reply.id, c, detail)};
  }
  if (auto* r = std::get_if<storage::AdminRequest>(&done.request)) {
    if (stats_) stats_->CountError(code);
    return {{std::string(kAdminResponseTopic), AdminResponse(*r, nullptr, done.status.ToString(), stats_),
             ReplyOf(*r).client_id}};
  }
  return {};  // housekeeping failed: it runs again on a later tick
}

std::vector<Publish> Engine::Done(const storage::AppendRequest& req, const storage::AppendResult& res) const {
  std::vector<Publish> out;
  if (res.refused != storage::ReplaceRefusal::kNone) {
    const Rejection why = RejectionOf(res.refused, req.message, options_);
    out.push_back(Error(req.sender, req.message.from().device(), req.message.id(), why.code, why.detail));
    return out;
  }
  if (res.duplicate) {
    if (!SameContent(res.device_copy, req.message)) {
      out.push_back(Error(req.sender, req.message.from().device(), req.message.id(), ErrorCode::kIdConflict,
                          "id was used for a different message"));
    } else {
      if (stats_) ++stats_->duplicates;
      out.push_back({topics_.Events(req.sender), Serialize(SenderAck(res.device_copy)), {}, kQos0});
    }
    return out;
  }
  if (stats_) {
    ++stats_->accepted;
    stats_->deliveries += res.receiver_copies.size() + 1;
  }
  for (size_t i = 0; i < res.receiver_copies.size(); ++i) {
    out.push_back(LiveCopy(res.receivers[i], res.receiver_copies[i]));
  }
  out.push_back(LiveCopy(req.sender, res.device_copy));
  out.push_back({topics_.Events(req.sender), Serialize(SenderAck(res.device_copy)), {}, kQos0});
  return out;
}

Publish Engine::LiveCopy(std::string_view user, const Message& copy) const {
  return {topics_.Inbox(user), Serialize(copy), {}, options_.delivery_qos, copy.signal_offset()};
}

std::vector<Publish> Engine::Done(const storage::ReceiptRequest& req, const storage::ReceiptResult& res) const {
  std::vector<Publish> out;
  if (!res.changed) return out;  // a repeated receipt changes nothing and says nothing
  if (stats_) ++stats_->receipts;
  const auto reader = Identity(req.user, req.device);
  if (res.peer) {
    Signal notice = ReceiptNotice(*res.peer, v1::SIGNAL_TYPE_RECEIVER, reader);
    if (res.recipients > 0) {
      // The sender copy's state is the whole group's; this receipt is one member's.
      *notice.mutable_signal_ack_state() = res.entry.signal_ack_state();
      SetGroupCounts(&notice, res.recipients, res.received_count, res.read_count);
    }
    out.push_back({topics_.Events(res.peer_user), Serialize(notice), {}, kQos0});
  }
  out.push_back(
      {topics_.Events(req.user), Serialize(ReceiptNotice(res.entry, v1::SIGNAL_TYPE_DEVICE, reader)), {}, kQos0});
  return out;
}

std::vector<Publish> Engine::Done(const storage::PullRequest& req, const storage::PullResult& res) const {
  std::vector<Publish> out;
  const std::string inbox = topics_.DeviceInbox(req.user, req.device);
  // Within one batch, higher priority (lower number) first; offsets unchanged.
  std::vector<const Message*> order;
  for (const auto& m : res.entries) order.push_back(&m);
  std::stable_sort(order.begin(), order.end(),
                   [](const Message* a, const Message* b) { return a->priority() < b->priority(); });
  for (const Message* e : order) {
    Message m = *e;
    m.set_signal_request(v1::SIGNAL_REQUEST_PULL);
    out.push_back({inbox, Serialize(m), {}, options_.delivery_qos});
  }
  if (stats_) stats_->deliveries += res.entries.size();
  out.push_back(
      {topics_.DeviceEvents(req.user, req.device),
       Serialize(PullResponse(ReplyOf(req).id, res.head, static_cast<uint32_t>(res.entries.size()), res.reached)),
       {},
       options_.delivery_qos});  // the entries' QoS, so it cannot overtake them
  return out;
}

std::vector<Publish> Engine::Done(const storage::MembersRequest& req, const storage::MembersResult& res) const {
  std::vector<Publish> out;
  const RelayReply& relay = ReplyOf(req);
  if (stats_) ++stats_->relayed;
  for (const auto& member : res.members) {
    if (member == req.user) continue;
    if (relay.is_activity) {
      out.push_back({topics_.Events(member), Serialize(relay.activity), {}, kQos0});
    } else {
      Message m = relay.transient;
      m.set_signal_type(v1::SIGNAL_TYPE_RECEIVER);
      out.push_back({topics_.Inbox(member), Serialize(m), {}, kQos0});
    }
  }
  if (!relay.is_activity) {
    out.push_back({topics_.Events(req.user), Serialize(TransientAck(relay.transient)), {}, kQos0});
  }
  return out;
}

std::vector<Publish> Engine::Done(const storage::ExpireRequest&, const storage::ExpireResult& res) const {
  std::vector<Publish> out;
  for (const auto& x : res.expired) {
    if (stats_) ++stats_->expired;
    out.push_back({topics_.Events(x.entry.from().user()),
                   Serialize(ExpiredNotice(x.entry, x.receiver, x.sender_offset)),
                   {},
                   kQos0});
  }
  return out;
}

std::vector<Publish> Engine::Done(const storage::TrimRequest&, const storage::TrimResult& res) const {
  if (stats_) stats_->trimmed += res.removed;
  return {};
}

std::vector<Publish> Engine::Done(const storage::PushRegisterRequest& req, const storage::PushRegisterResult&) const {
  courier::v1::PushRegistration reg;
  reg.set_app(req.app);
  reg.set_token(req.token);
  return {{topics_.DeviceEvents(req.user, req.device), Serialize(PushRegistered(ReplyOf(req).id, reg)), {}, kQos0}};
}

// Pushes due and done concern the shell's push sender, not clients.
std::vector<Publish> Engine::Done(const storage::PushDoneRequest&, const storage::PushDoneResult&) const { return {}; }
std::vector<Publish> Engine::Done(const storage::PushScanRequest&, const storage::PushScanResult&) const { return {}; }

std::vector<Publish> Engine::Done(const storage::AdminRequest& req, const storage::AdminResult& res) const {
  return {{std::string(kAdminResponseTopic), AdminResponse(req, &res, "", stats_), ReplyOf(req).client_id}};
}

}  // namespace courier::core
