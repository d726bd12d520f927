// What a worker sends and receives: Messages (or plain publishes) with the
// bench header, their acks and deliveries, PULLs and their responses
// (load_worker.h).
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "load_worker.h"
#include "proc.h"

namespace courier::bench::load {

void Worker::SendPullOrPush(Client* c, int request) {
  Signal sig;
  sig.set_id("bench-pull");
  sig.set_type(kSignalRequest);
  sig.set_signal_request(request);
  if (request == kPull) {
    sig.set_signal_offset(c->last);
    sig.set_limit(static_cast<uint32_t>(s_.pull_limit));
  }
  sig.SerializeToString(&buf_);
  int rc =
      mosquitto_publish(c->m, nullptr, c->signal_topic.c_str(), static_cast<int>(buf_.size()), buf_.data(), 1, false);
  if (rc != MOSQ_ERR_SUCCESS) Kill(c, std::string("publish: ") + mosquitto_strerror(rc));
  c->pull_out = true;
}

void Worker::OnPublish(mosquitto*, void* obj, int mid) {
  auto* c = static_cast<Client*>(obj);
  if (c->w->s_.mode == Mode::kPlain) c->w->Acked(c, static_cast<uint32_t>(mid), NowNs(), true);
}

void Worker::OnMessage(mosquitto*, void* obj, const mosquitto_message* msg) {
  auto* c = static_cast<Client*>(obj);
  Worker* w = c->w;
  const int64_t now = NowNs();
  w->last_rx_ = now;
  if (w->s_.mode == Mode::kPlain) {
    w->Delivered(c, msg->payload, static_cast<size_t>(msg->payloadlen), now);
    return;
  }
  const char* t = msg->topic;
  if (c->inbox == t || c->dev_inbox == t) {
    w->OnCourierMessage(c, msg, now);
  } else if (c->events == t || c->dev_events == t) {
    w->OnCourierSignal(c, msg, now);
  }
}

void Worker::OnCourierMessage(Client* c, const mosquitto_message* msg, int64_t now) {
  if (!msg_.ParseFromArray(msg->payload, msg->payloadlen)) {
    Error("a Message on " + std::string(msg->topic) + " does not parse", false);
    return;
  }
  if (s_.pull) c->last = std::max(c->last, msg_.signal_offset());
  if (msg_.signal_type() != kReceiver) {
    ++r_.device_copies;
    return;
  }
  Delivered(c, msg_.payload().data(), msg_.payload().size(), now);
  if (s_.receipts) {
    Signal sig;
    sig.set_id(msg_.id());
    sig.set_signal_offset(msg_.signal_offset());
    sig.mutable_signal_ack_state()->set_received(true);
    sig.SerializeToString(&buf_);
    mosquitto_publish(c->m, nullptr, c->signal_topic.c_str(), static_cast<int>(buf_.size()), buf_.data(), 1, false);
  }
}

void Worker::OnCourierSignal(Client* c, const mosquitto_message* msg, int64_t now) {
  Signal sig;
  if (!sig.ParseFromArray(msg->payload, msg->payloadlen)) {
    Error("a Signal on " + std::string(msg->topic) + " does not parse", false);
    return;
  }
  const bool mine = c->dev_events == msg->topic;
  if (sig.type() == kSignalError || (sig.has_error() && !sig.error().empty())) {
    if (!mine) return;
    const bool permanent = sig.type() == kSignalError;
    // The id names the message: <tag>.<device>.<seq>.
    const std::string& id = sig.id();
    auto dot = id.rfind('.');
    if (dot != std::string::npos)
      Acked(c, static_cast<uint32_t>(std::strtoul(id.c_str() + dot + 1, nullptr, 10)), now, false);
    Error((permanent ? "" : "transient ") + sig.error(), permanent);
    return;
  }
  if (sig.type() == kSignalResponse && sig.signal_type() == kSender) {
    const std::string& id = sig.id();
    auto dot = id.rfind('.');
    if (dot == std::string::npos || dot == 0) return;
    auto dot2 = id.rfind('.', dot - 1);
    if (dot2 == std::string::npos) return;
    const int dev = std::atoi(id.c_str() + dot2 + 1);
    if (dev != c->gidx) return;  // another device of this user sent it
    Acked(c, static_cast<uint32_t>(std::strtoul(id.c_str() + dot + 1, nullptr, 10)), now, sig.signal_offset_state());
    return;
  }
  if (mine && sig.type() == kSignalResponse && sig.signal_request() == kPull) {
    const int32_t head = sig.signal_offset();
    c->pull_out = false;
    if (c->state == Client::kProbing) {
      c->last = head;
      c->state = Client::kReady;
      return;
    }
    c->next_pull = c->last < head ? now : now + int64_t{s_.pull_idle_ms} * 1000000;
  }
}

void Worker::Delivered(Client* c, const void* payload, size_t len, int64_t now) {
  if (len < kHeaderBytes) {
    Error("a delivery is shorter than the bench header", false);
    return;
  }
  int64_t sent_ns;
  uint32_t dev;
  std::memcpy(&sent_ns, payload, sizeof sent_ns);
  std::memcpy(&dev, static_cast<const char*>(payload) + 8, sizeof dev);
  if (InWindow(now)) ++r_.arrived_in_window;
  if (InWindow(sent_ns)) {
    ++r_.delivered_window;
    r_.deliver.Record(now - sent_ns);
    if (s_.port_b > 0) {
      // The header names the sending device by its global index.
      const int devices = std::max(1, s_.devices), from = static_cast<int>(dev);
      const bool same = EdgeOf(s_, from / devices, from % devices) == c->edge;
      (same ? r_.deliver_same : r_.deliver_cross).Record(now - sent_ns);
    }
  }
}

void Worker::Acked(Client* c, uint32_t key, int64_t now, bool ok) {
  auto it = c->pending.find(key);
  if (it == c->pending.end()) return;  // a repeated ack
  const int64_t sent_ns = it->second;
  c->pending.erase(it);
  --c->inflight;
  if (ok && InWindow(sent_ns)) {
    ++r_.acked_window;
    r_.ack.Record(now - sent_ns);
  }
  r_.last_ack_ns = std::max(r_.last_ack_ns, now);
  Release(c);
}

void Worker::Release(Client* c) {
  if (!sending_ || c->queued || c->sent >= c->quota) return;
  if (s_.rate > 0) {
    if (!c->blocked) return;
    c->blocked = false;
    c->queued = true;
    schedule_.push({c->next_ns, c});
  } else {
    c->queued = true;
    ready_.push_back(c);
  }
}

bool Worker::SendOne(Client* c, int64_t ts) {
  char header[kHeaderBytes];
  const uint32_t dev = static_cast<uint32_t>(c->gidx), seq = ++c->seq;
  std::memcpy(header, &ts, 8);
  std::memcpy(header + 8, &dev, 4);
  std::memcpy(header + 12, &seq, 4);
  std::memcpy(pad_.data(), header, kHeaderBytes);
  int mid = 0, rc;
  uint32_t key = seq;
  if (s_.mode == Mode::kCourier) {
    msg_.Clear();
    msg_.set_id(s_.run_tag + "." + std::to_string(c->gidx) + "." + std::to_string(seq));
    if (!c->to_group.empty())
      msg_.mutable_to()->set_group(c->to_group);
    else
      msg_.mutable_to()->set_user(c->to_user);
    msg_.set_timestamp(EpochMs());
    msg_.set_payload(pad_);
    msg_.SerializeToString(&buf_);
    rc = mosquitto_publish(c->m, &mid, c->send_topic.c_str(), static_cast<int>(buf_.size()), buf_.data(), s_.send_qos,
                           false);
  } else {
    rc = mosquitto_publish(c->m, &mid, c->peer_topic.c_str(), static_cast<int>(pad_.size()), pad_.data(), 1, false);
    key = static_cast<uint32_t>(mid);
  }
  if (rc != MOSQ_ERR_SUCCESS) {
    Kill(c, std::string("publish: ") + mosquitto_strerror(rc));
    return false;
  }
  c->pending[key] = ts;
  ++c->inflight;
  ++c->sent;
  ++r_.sent;
  r_.first_send_ns = std::min(r_.first_send_ns, ts);
  if (InWindow(ts)) {
    ++r_.sent_window;
    const int per_message = s_.group_size >= 2 ? (s_.group_size - 1) * s_.devices : s_.devices;
    r_.expected_window += static_cast<uint64_t>(per_message);
  }
  return true;
}

void Worker::Fill(Client* c, int64_t now) {
  c->queued = false;
  if (c->state != Client::kReady) return;
  if (s_.rate > 0) {
    while (c->next_ns <= now && c->next_ns < win1_ && c->sent < c->quota) {
      if (c->inflight >= s_.window) {
        c->blocked = true;  // resumes when an ack frees a slot
        return;
      }
      if (!SendOne(c, c->next_ns)) return;
      c->next_ns += c->interval_ns;
    }
    if (c->next_ns < win1_ && c->sent < c->quota) {
      c->queued = true;
      schedule_.push({c->next_ns, c});
    }
  } else {
    while (c->inflight < s_.window && c->sent < c->quota && now < win1_) {
      if (!SendOne(c, now)) return;
    }
  }
  Arm(c);
}

}  // namespace courier::bench::load
