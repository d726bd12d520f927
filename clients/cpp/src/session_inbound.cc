// Session: what arrives — entries on the inboxes, Signals on the events
// topics (acks, receipts, errors, activity, pull responses). See session.h.
#include <utility>

#include "session.h"

namespace courier::client::detail {

void Session::OnPublish(const std::string& topic, const std::string& bytes, int64_t now) {
  if (finished_) return;
  const bool inbox = topic == topics_.inbox;
  const bool device_inbox = topic == topics_.device_inbox;
  if (inbox || device_inbox) {
    if (!config_.receive) return;
    v1::Message pm;
    if (!pm.ParseFromString(bytes)) {
      LocalError("malformed_publish", "undecodable Message on " + topic);
      return;
    }
    // Pulled entries come on the device inbox, marked as the pull's answer.
    Message m = FromProto(pm, device_inbox && pm.signal_request() == v1::SIGNAL_REQUEST_PULL);
    if (m.offset <= 0) {  // transient: not stored, not ordered
      std::vector<Message> one;
      one.push_back(std::move(m));
      Deliver(std::move(one));
      return;
    }
    std::vector<Message> out;
    auto pull = seq_.OnEntry(std::move(m), &out);
    Deliver(std::move(out));
    if (pull) PublishPull(*pull, now);
    return;
  }
  if (topic == topics_.events || topic == topics_.device_events) {
    v1::Signal s;
    if (!s.ParseFromString(bytes)) {
      LocalError("malformed_publish", "undecodable Signal on " + topic);
      return;
    }
    OnSignal(s, now);
  }
}

void Session::OnSignal(const v1::Signal& s, int64_t now) {
  const std::string& id = s.id();
  const bool has_send = !id.empty() && send_ids_.contains(id);

  if (s.type() == v1::SIGNAL_KIND_ERROR) {
    auto [code, detail] = SplitError(s.error());
    if (has_send) {
      Resolve(id, SendResult{.id = id, .error_code = code, .error_detail = detail});
      return;
    }
    if (auto h = heads_.find(id); h != heads_.end()) {
      actions_.emplace_back(HeadDone{h->second.handle, std::nullopt});
      heads_.erase(h);
    }
    actions_.emplace_back(ServerError{.id = id,
                                      .code = code,
                                      .detail = detail,
                                      .permanent = true,
                                      .offset = s.signal_offset(),
                                      .user_offset = s.user_offset(),
                                      .from = FromProto(s.from())});
    return;
  }
  if (s.status() != 0) {
    actions_.emplace_back(ActivityOf(s));
    return;
  }
  if (s.type() != v1::SIGNAL_KIND_RESPONSE) return;
  if (!s.signal_offset_state() && s.has_error()) {
    OnTransientError(s, now);
    return;
  }
  if (s.signal_request() == v1::SIGNAL_REQUEST_PULL) {
    OnPullResponse(s, now);
    return;
  }

  const int st = s.signal_type();
  if (st == v1::SIGNAL_TYPE_SENDER && s.signal_offset_state() && has_send) {
    const PendingSend& p = sends_.at(send_ids_.at(id));
    OwnCopy(p, s, now);  // before Resolve, which forgets the send
    Resolve(id, SendResult{.id = id,
                           .ok = true,
                           .offset = s.signal_offset(),
                           .user_offset = s.user_offset(),
                           .server_timestamp = s.timestamp()});
  }
  if ((st == v1::SIGNAL_TYPE_SENDER && s.signal_offset_state()) || st == v1::SIGNAL_TYPE_RECEIVER ||
      st == v1::SIGNAL_TYPE_DEVICE) {
    actions_.emplace_back(ReceiptOf(s));
  }
}

// A RESPONSE with an error and no offset: try again later (same id).
void Session::OnTransientError(const v1::Signal& s, int64_t now) {
  const std::string& id = s.id();
  if (auto it = send_ids_.find(id); !id.empty() && it != send_ids_.end()) {
    PendingSend& p = sends_.at(it->second);
    p.next_attempt = now + Backoff(std::max(p.attempts - 1, 0));
    return;
  }
  if (!id.empty() && seq_.running_id() == id) {
    pull_deadline_.reset();
    if (auto o = seq_.OnPullFailed(id)) pull_retry_ = {*o, now + Backoff(pull_failures_++)};
    return;
  }
  if (auto h = heads_.find(id); h != heads_.end()) {
    h->second.sent = false;
    h->second.not_before = now + Backoff(h->second.failures++);
    return;
  }
  if (auto r = sent_receipts_.find(id); !id.empty() && r != sent_receipts_.end()) {
    PendingReceipt again = r->second;
    sent_receipts_.erase(r);
    // A copy nobody waits for: the caller's future already has its PUBACK.
    PendingReceipt& copy = receipts_[next_receipt_++];
    copy.offset = again.offset;
    copy.read = again.read;
    copy.id = again.id;
    copy.not_before = now + Backoff(again.failures);
    copy.failures = again.failures + 1;
    return;
  }
  auto [code, detail] = SplitError(s.error());
  actions_.emplace_back(ServerError{.id = id,
                                    .code = code,
                                    .detail = detail,
                                    .permanent = false,
                                    .offset = s.signal_offset(),
                                    .user_offset = s.user_offset(),
                                    .from = FromProto(s.from())});
}

// The answer to a PULL (or PUSH) request: head in signal_offset, how many
// entries it sent in limit.
void Session::OnPullResponse(const v1::Signal& s, int64_t now) {
  const std::string& id = s.id();
  if (auto h = heads_.find(id); h != heads_.end()) {
    actions_.emplace_back(HeadDone{h->second.handle, s.signal_offset()});
    heads_.erase(h);
    return;
  }
  if (id.empty() || seq_.running_id() != id) return;  // stale: from an earlier connection
  pull_deadline_.reset();
  std::vector<Message> out;
  bool synced = false;
  std::optional<int32_t> reset_from;
  auto next = seq_.OnPullResponse(id, s.signal_offset(), s.limit(), &out, &synced, &reset_from);
  if (reset_from) {
    LocalError("cursor_ahead", "the server's head " + std::to_string(s.signal_offset()) +
                                   " is below the local cursor " + std::to_string(*reset_from) +
                                   "; continuing from the head");
  }
  Deliver(std::move(out));
  if (next) PublishPull(*next, now);
  if (synced) Synced(s.signal_offset(), now);
}

// The server does not push a DEVICE copy back to the device that sent it
// (plugin_opt_echo_to_sending_device false, the default): the ack says where
// the message sits in this user's log, so the entry is rebuilt from what was
// sent, and the log has no gap to pull. When the server does push the copy,
// whichever of the two comes second is dropped as a duplicate offset.
// Fields the server resolves when it stores a message (expiry 0 becomes the
// server's default) are as sent; a pull returns them as stored.
void Session::OwnCopy(const PendingSend& p, const v1::Signal& ack, int64_t now) {
  if (!config_.receive || p.transient || ack.signal_offset() <= 0) return;
  // Dedup is per user: the id may have been stored from another device of
  // this user, whose copy the server does send to this device.
  if (ack.from().user() != config_.user || ack.from().device() != config_.device) return;
  v1::Message m = p.message;
  m.set_signal_offset(ack.signal_offset());
  m.set_user_offset(ack.user_offset());
  *m.mutable_from() = ack.from();
  m.set_signal_type(v1::SIGNAL_TYPE_DEVICE);
  m.set_signal_offset_state(true);
  *m.mutable_signal_ack_state() = ack.signal_ack_state();
  m.set_server_timestamp(ack.timestamp());
  m.clear_signal_request();
  std::vector<Message> out;
  auto pull = seq_.OnEntry(FromProto(m, /*pulled=*/false), &out);
  Deliver(std::move(out));
  if (pull) PublishPull(*pull, now);
}

void Session::Deliver(std::vector<Message> batch) {
  for (auto& m : batch) {
    if (m.offset > 0) {
      recent_ids_[m.offset] = m.id;
      if (recent_ids_.size() > kRecentIds) recent_ids_.erase(recent_ids_.begin());
    }
    actions_.emplace_back(std::move(m));
  }
}

void Session::Synced(int32_t head, int64_t now) {
  pull_failures_ = 0;
  pull_deadline_.reset();
  for (Handle h : sync_armed_) actions_.emplace_back(SyncDone{h, head});
  sync_armed_.clear();
  actions_.emplace_back(SyncedEvent{head});
  if (!sync_waiting_.empty() && online_) StartSync(now);
}

void Session::LocalError(std::string code, std::string detail) {
  actions_.emplace_back(
      ServerError{.code = std::move(code), .detail = std::move(detail), .permanent = true, .local = true});
}

}  // namespace courier::client::detail
