#include "session.h"

#include <algorithm>
#include <utility>

#include "backoff.h"
#include "send_check.h"

namespace courier::client::detail {

Session::Session(SessionConfig config)
    : config_(std::move(config)),
      topics_(MakeTopics(config_.prefix, config_.user, config_.device)),
      seq_(config_.cursor, config_.pull_id_prefix),
      reported_cursor_(config_.cursor) {}

std::vector<Action> Session::TakeActions() {
  if (const auto c = seq_.cursor(); c && c != reported_cursor_) {
    reported_cursor_ = c;
    actions_.emplace_back(CursorMoved{*c});
  }
  std::vector<Action> out;
  out.swap(actions_);
  return out;
}

std::optional<int64_t> Session::NextDeadline() const {
  std::optional<int64_t> t;
  auto min = [&t](int64_t v) { t = t ? std::min(*t, v) : v; };
  for (const auto& [n, p] : sends_) {
    if (online_ && !draining_ && !p.transient) min(p.next_attempt);
    if (p.give_up) min(*p.give_up);
  }
  if (online_) {
    for (const auto& [n, r] : receipts_) {
      if (r.token == 0) min(r.not_before);
    }
    if (!draining_) {
      for (const auto& [id, h] : heads_) {
        if (!h.sent) min(h.not_before);
      }
      if (pull_deadline_) min(*pull_deadline_);
      if (pull_retry_) min(pull_retry_->second);
    }
  }
  return t;
}

int64_t Session::Backoff(int failures) const {
  return BackoffDelayMs(config_.retry, failures, config_.random ? config_.random() : 0.5);
}

uint64_t Session::NewToken(Sent s) {
  const uint64_t t = next_token_++;
  tokens_.emplace(t, std::move(s));
  return t;
}

void Session::Publish(const std::string& topic, std::string bytes, uint64_t token) {
  actions_.emplace_back(PublishAction{.topic = topic, .bytes = std::move(bytes), .qos = 1, .token = token});
}

// ---------------------------------------------------------------------------
// Connection.

void Session::OnConnected(int64_t) {
  if (finished_) return;
  // Events (acks, errors, notices) always; the inboxes only when receiving.
  SubscribeAction s{{topics_.events, topics_.device_events}};
  if (config_.receive) {
    s.topics.push_back(topics_.inbox);
    s.topics.push_back(topics_.device_inbox);
  }
  actions_.emplace_back(std::move(s));
}

void Session::OnSubscribed(int64_t now) {
  if (finished_) return;
  online_ = true;
  for (auto& [n, r] : receipts_) {
    if (now >= r.not_before) PublishReceipt(n, r, now);
  }
  for (auto& [n, p] : sends_) PublishSend(p, now);
  for (auto& [id, h] : heads_) {
    if (now >= h.not_before) PublishHead(id, h, now);
  }
  // Every connection syncs from the cursor: what arrived while offline is
  // only in the log.
  if (config_.receive && (config_.sync_on_connect || !sync_waiting_.empty() || !seq_.cursor())) { StartSync(now); }
}

void Session::OnConnectionLost(const std::string& reason, int64_t) {
  if (!online_ && tokens_.empty()) return;
  online_ = false;
  tokens_.clear();
  for (auto& [n, r] : receipts_) r.token = 0;
  for (auto& [h, pending] : activities_) actions_.emplace_back(ActivityDone{h, false});
  activities_.clear();
  for (auto& [id, h] : heads_) h.sent = false;
  pull_deadline_.reset();
  pull_retry_.reset();
  // Fire-and-forget sends are not retried over a new connection: the server
  // does not deduplicate them.
  std::vector<std::string> lost;
  for (auto& [n, p] : sends_) {
    if (p.transient) lost.push_back(p.id);
  }
  for (const auto& id : lost) {
    Resolve(id, SendResult{.id = id,
                           .error_code = "connection_lost",
                           .error_detail = "transient message not acknowledged: " + reason});
  }
}

void Session::Finish(const std::string& code, const std::string& detail) {
  if (finished_) return;
  finished_ = {code, detail};
  online_ = false;
  std::vector<std::string> ids;
  for (auto& [n, p] : sends_) ids.push_back(p.id);
  for (const auto& id : ids) { Resolve(id, SendResult{.id = id, .error_code = code, .error_detail = detail}); }
  for (auto& [n, r] : receipts_) {
    if (r.handle != 0) actions_.emplace_back(MarkDone{r.handle, false});
  }
  receipts_.clear();
  for (auto& [h, pending] : activities_) actions_.emplace_back(ActivityDone{h, false});
  activities_.clear();
  for (auto& [id, h] : heads_) actions_.emplace_back(HeadDone{h.handle, std::nullopt});
  heads_.clear();
  for (Handle h : sync_armed_) actions_.emplace_back(SyncDone{h, std::nullopt});
  for (Handle h : sync_waiting_) actions_.emplace_back(SyncDone{h, std::nullopt});
  sync_armed_.clear();
  sync_waiting_.clear();
  tokens_.clear();
}

// ---------------------------------------------------------------------------
// Time.

void Session::Tick(int64_t now) {
  if (finished_) return;
  if (online_) {
    for (auto& [n, r] : receipts_) {
      if (r.token == 0 && now >= r.not_before) PublishReceipt(n, r, now);
    }
  }
  if (draining_) return;  // closing: receipts still go out, nothing new starts
  if (online_) {
    for (auto& [n, p] : sends_) {
      if (!p.transient && now >= p.next_attempt) PublishSend(p, now);
    }
    for (auto& [id, h] : heads_) {
      if (!h.sent && now >= h.not_before) PublishHead(id, h, now);
    }
    if (pull_deadline_ && now >= *pull_deadline_) {
      pull_deadline_.reset();
      if (auto id = seq_.running_id()) {
        if (auto o = seq_.OnPullFailed(*id)) PublishPull(*o, now);
      }
    }
    if (pull_retry_ && now >= pull_retry_->second) {
      auto o = pull_retry_->first;
      pull_retry_.reset();
      if (seq_.running_id() == o.id) PublishPull(o, now);
    }
  }
  std::vector<std::string> expired;
  for (auto& [n, p] : sends_) {
    if (p.give_up && now >= *p.give_up) expired.push_back(p.id);
  }
  for (const auto& id : expired) {
    Resolve(id, SendResult{.id = id,
                           .error_code = "timeout",
                           .error_detail = online_ ? "no acknowledgement in time" : "not connected in time"});
  }
}

// ---------------------------------------------------------------------------
// Broker answers.

void Session::OnPubAck(uint64_t token, PubAck ack, const std::string& reason) {
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return;
  const Sent s = std::move(it->second);
  tokens_.erase(it);
  switch (s.what) {
    case Sent::What::kSend:
      if (ack == PubAck::kRefused && send_ids_.contains(s.send_id)) {
        Resolve(s.send_id, SendResult{.id = s.send_id,
                                      .error_code = "refused",
                                      .error_detail = "the broker refused the publish: " + reason});
      }
      return;  // otherwise the answer (or the retry timer) decides
    case Sent::What::kReceipt:
      if (auto r = receipts_.find(s.receipt); r != receipts_.end()) {
        if (r->second.handle != 0) { actions_.emplace_back(MarkDone{r->second.handle, ack == PubAck::kAccepted}); }
        receipts_.erase(r);
      }
      return;
    case Sent::What::kActivity:
      if (activities_.erase(s.activity) > 0) {
        actions_.emplace_back(ActivityDone{s.activity, ack == PubAck::kAccepted});
      }
      return;
  }
}

void Session::OnPublishFailed(uint64_t token) {
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return;
  const Sent s = std::move(it->second);
  tokens_.erase(it);
  switch (s.what) {
    case Sent::What::kSend: return;  // the retry timer publishes it again
    case Sent::What::kReceipt:
      if (auto r = receipts_.find(s.receipt); r != receipts_.end()) r->second.token = 0;
      return;
    case Sent::What::kActivity:
      if (activities_.erase(s.activity) > 0) actions_.emplace_back(ActivityDone{s.activity, false});
      return;
  }
}

// ---------------------------------------------------------------------------
// Publishing.

void Session::PublishSend(PendingSend& p, int64_t now) {
  const uint64_t token = NewToken(Sent{.what = Sent::What::kSend, .send_id = p.id});
  Publish(topics_.send, p.bytes, token);
  ++p.attempts;
  p.next_attempt = now + Backoff(p.attempts - 1);
}

void Session::PublishReceipt(uint64_t n, PendingReceipt& r, int64_t now) {
  v1::Signal s;
  // The server echoes the id (it does not check it; its notices carry the
  // stored message's id): the message's id when known, else one naming the
  // offset, so that a transient error can be matched to this receipt.
  s.set_id(r.id);
  s.set_signal_offset(r.offset);
  s.set_timestamp(now);
  s.set_type(v1::SIGNAL_KIND_REQUEST);
  s.set_signal_type(v1::SIGNAL_TYPE_RECEIVER);
  s.mutable_signal_ack_state()->set_received(true);
  s.mutable_signal_ack_state()->set_read(r.read);
  r.token = NewToken(Sent{.what = Sent::What::kReceipt, .receipt = n});
  Publish(topics_.signal, s.SerializeAsString(), r.token);
  // Kept from the publish on: the answer can come before the PUBACK.
  RememberReceipt(r);
}

void Session::RememberReceipt(const PendingReceipt& r) {
  if (sent_receipts_.insert_or_assign(r.id, r).second) sent_receipt_order_.push_back(r.id);
  while (sent_receipts_.size() > kRecentReceipts && !sent_receipt_order_.empty()) {
    sent_receipts_.erase(sent_receipt_order_.front());
    sent_receipt_order_.pop_front();
  }
}

void Session::PublishPull(const PullOrder& o, int64_t now) {
  if (!online_) return;  // the next connection starts a new sync
  v1::Signal s;
  s.set_id(o.id);
  s.set_type(v1::SIGNAL_KIND_REQUEST);
  s.set_signal_request(o.head_only ? v1::SIGNAL_REQUEST_PUSH : v1::SIGNAL_REQUEST_PULL);
  s.set_signal_offset(o.after);
  s.set_limit(config_.pull_limit);
  s.set_timestamp(now);
  Publish(topics_.signal, s.SerializeAsString());
  pull_deadline_ = now + config_.pull_timeout_ms;
}

void Session::PublishHead(const std::string& id, PendingHead& h, int64_t now) {
  v1::Signal s;
  s.set_id(id);
  s.set_type(v1::SIGNAL_KIND_REQUEST);
  s.set_signal_request(v1::SIGNAL_REQUEST_PUSH);
  s.set_timestamp(now);
  Publish(topics_.signal, s.SerializeAsString());
  h.sent = true;
}

void Session::StartSync(int64_t now) {
  for (Handle h : sync_waiting_) sync_armed_.push_back(h);
  sync_waiting_.clear();
  pull_retry_.reset();
  const StartFrom start = config_.sync_on_connect ? config_.start_from : StartFrom::kNow;
  PublishPull(seq_.StartSync(start), now);
}

void Session::Resolve(const std::string& id, SendResult r) {
  auto it = send_ids_.find(id);
  if (it == send_ids_.end()) return;
  auto node = sends_.find(it->second);
  PendingSend p = std::move(node->second);
  sends_.erase(node);
  send_ids_.erase(it);
  if (r.attempts == 0) r.attempts = p.attempts;
  actions_.emplace_back(SendDone{p.handle, std::move(r)});
}

// ---------------------------------------------------------------------------
// Application commands.

void Session::Send(Handle h, Outgoing out, const SendOptions& o, int64_t now) {
  auto end = [&](std::string code, std::string detail) {
    actions_.emplace_back(
        SendDone{h, SendResult{.id = o.id, .error_code = std::move(code), .error_detail = std::move(detail)}});
  };
  if (finished_) return end(finished_->first, "the client is not running");
  if (auto refused = CheckSend(out, o)) return end(std::move(refused->code), std::move(refused->detail));
  if (send_ids_.contains(o.id)) return end("id_pending", "a send with this id is in progress");
  PendingSend p;
  p.handle = h;
  p.id = o.id;
  v1::Message& m = p.message;
  if (!out.to.group.empty()) {
    m.mutable_to()->set_group(out.to.group);
  } else {
    m.mutable_to()->set_user(out.to.user);
  }
  m.set_payload(std::move(out.payload));
  if (!out.replaces.empty()) m.set_replaces(out.replaces);
  m.set_recall(out.recall);
  m.set_id(o.id);
  m.set_timestamp(o.timestamp != 0 ? o.timestamp : now);
  m.set_encryption_type(o.encryption_type);
  m.set_encrypted(o.encrypted);
  m.set_signature(o.signature);
  m.set_type(o.type);
  m.set_expiry(o.expiry);
  m.set_priority(o.priority);
  m.set_transient(o.transient);
  p.bytes = m.SerializeAsString();
  p.transient = o.transient;
  p.next_attempt = now;
  if (o.timeout.count() > 0) p.give_up = now + o.timeout.count();
  const uint64_t n = next_send_++;
  send_ids_[p.id] = n;
  PendingSend& stored = sends_.emplace(n, std::move(p)).first->second;
  if (online_ && !draining_) PublishSend(stored, now);
}

void Session::Mark(Handle h, int32_t offset, bool read, int64_t now, const std::string& id) {
  if (finished_) {
    actions_.emplace_back(MarkDone{h, false});
    return;
  }
  const uint64_t n = next_receipt_++;
  PendingReceipt& r = receipts_[n];
  r.handle = h;
  r.offset = offset;
  r.read = read;
  r.not_before = now;
  if (!id.empty()) {
    r.id = id;
  } else if (auto it = recent_ids_.find(offset); it != recent_ids_.end()) {
    r.id = it->second;
  } else {
    r.id = "receipt-" + std::to_string(offset);
  }
  if (online_) PublishReceipt(n, r, now);
}

void Session::SetActivity(Handle h, const Identity& to, Status status, int64_t now) {
  if (!online_ || draining_ || finished_) {  // not stored, not retried: only live
    actions_.emplace_back(ActivityDone{h, false});
    return;
  }
  v1::Signal s;
  s.set_type(v1::SIGNAL_KIND_REQUEST);
  s.set_status(static_cast<int>(status));
  s.mutable_to()->set_user(to.user);
  s.mutable_to()->set_group(to.group);
  s.set_timestamp(now);
  activities_[h] = true;
  Publish(topics_.signal, s.SerializeAsString(), NewToken(Sent{.what = Sent::What::kActivity, .activity = h}));
}

void Session::Sync(Handle h, int64_t now) {
  if (!config_.receive || finished_) {
    actions_.emplace_back(SyncDone{h, std::nullopt});
    return;
  }
  sync_waiting_.push_back(h);
  // A running sync may have been asked before this call: wait for it, then
  // start one of our own (see Synced()).
  if (online_ && !seq_.pulling()) StartSync(now);
}

void Session::QueryHead(Handle h, int64_t now) {
  if (finished_) {
    actions_.emplace_back(HeadDone{h, std::nullopt});
    return;
  }
  const std::string id = config_.head_id_prefix + std::to_string(next_head_++);
  PendingHead& p = heads_[id];
  p.handle = h;
  if (online_) PublishHead(id, p, now);
}

}  // namespace courier::client::detail
