// Client::Impl's network thread: the connection through the Transport (connect,
// subscribe, reconnect with backoff), polling, timers, and carrying out the
// Session's actions. See client_impl.h.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <type_traits>
#include <variant>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "backoff.h"
#include "client_impl.h"
#include "cursor_file.h"

namespace courier::client {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

constexpr milliseconds kMaxPollWait{500};
// A connection that ends sooner than this after coming online does not reset
// the reconnect backoff, and three in a row are reported: with Mosquitto
// before 2.0.15 that is how a second connection with the same client id
// shows (no DISCONNECT 0x8E), and backing off tames the tug of war.
constexpr auto kStableAfter = std::chrono::seconds(5);
constexpr int kUnstableReport = 3;

Clock::duration Backoffs(const Backoff& b, int failures) {
  return milliseconds(detail::BackoffDelayMs(b, failures, detail::Random01()));
}

// CONNACK reason codes that another attempt will not change.
bool PermanentConnack(int rc) {
  switch (rc) {
    case MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION:
    case MQTT_RC_CLIENTID_NOT_VALID:
    case MQTT_RC_BAD_USERNAME_OR_PASSWORD:
    case MQTT_RC_NOT_AUTHORIZED:
    case MQTT_RC_BANNED:
    case MQTT_RC_BAD_AUTHENTICATION_METHOD: return true;
    default: return false;
  }
}

// PUBACK reason codes that mean "this publish will never be accepted".
bool PermanentPuback(int reason) {
  switch (reason) {
    case MQTT_RC_NOT_AUTHORIZED:
    case MQTT_RC_TOPIC_NAME_INVALID:
    case MQTT_RC_PAYLOAD_FORMAT_INVALID:
    case MQTT_RC_PACKET_TOO_LARGE: return true;
    default: return false;
  }
}

}  // namespace

void Client::Impl::Run() {
  reconnect_at_ = Clock::now();
  while (true) {
    RunCommands();
    const auto now = Clock::now();
    if (ReadyToClose(now)) break;
    Timers(now);
    Dispatch();
    PollAndLoop(NextWake(Clock::now()));
    RunCommands();
    Dispatch();
    PersistCursor();
  }
  {
    // From here on Post() refuses; run what slipped in before that.
    std::vector<std::function<void()>> cmds;
    {
      std::lock_guard lock(mu_);
      closed_ = true;
      cmds.swap(commands_);
    }
    for (auto& c : cmds) c();
  }
  Shutdown();
}

void Client::Impl::RunCommands() {
  std::vector<std::function<void()>> cmds;
  {
    std::lock_guard lock(mu_);
    cmds.swap(commands_);
  }
  for (auto& c : cmds) c();
}

bool Client::Impl::ReadyToClose(Clock::time_point now) const {
  if (!closing_) return false;
  if (phase_ != Phase::kOnline) return true;
  if (session_.Drained()) return true;
  return now >= close_deadline_;
}

void Client::Impl::Shutdown() {
  if (transport_ != nullptr && transport_->Socket() >= 0 &&
      (phase_ == Phase::kOnline || phase_ == Phase::kSuback || phase_ == Phase::kConnack)) {
    phase_ = Phase::kClosed;
    transport_->Shutdown(milliseconds(500));
  }
  phase_ = Phase::kClosed;
  online_ = false;
  session_.Finish("closed", "the client was closed");
  Apply();
  Emit(ConnectionState::kClosed);
  PersistCursor();
  Dispatch();
}

void Client::Impl::Timers(Clock::time_point now) {
  if (!closing_) {
    if (phase_ == Phase::kIdle && now >= reconnect_at_) Connect();
    if ((phase_ == Phase::kConnack || phase_ == Phase::kSuback) && now >= phase_deadline_) {
      const char* what = phase_ == Phase::kConnack ? "no CONNACK" : "no SUBACK";
      transport_->Disconnect();
      GoOffline(std::string(what) + " within the connect timeout");
    }
    if (phase_ == Phase::kOnline && failures_ > 0 && now - online_since_ >= kStableAfter) {
      failures_ = quick_drops_ = 0;
    }
  }
  session_.Tick(NowMs());
  Apply();
}

Clock::time_point Client::Impl::NextWake(Clock::time_point now) const {
  Clock::time_point t = now + kMaxPollWait;
  if (closing_) t = std::min(t, close_deadline_);
  if (phase_ == Phase::kIdle) t = std::min(t, reconnect_at_);
  if (phase_ == Phase::kConnack || phase_ == Phase::kSuback) t = std::min(t, phase_deadline_);
  if (const auto d = session_.NextDeadline()) t = std::min(t, ToSteady(*d));
  return std::max(t, now);
}

void Client::Impl::PollAndLoop(Clock::time_point until) {
  const bool use_socket = phase_ == Phase::kConnack || phase_ == Phase::kSuback || phase_ == Phase::kOnline;
  const int sock = use_socket ? transport_->Socket() : -1;
  pollfd fds[2] = {{wake_r_, POLLIN, 0}, {sock, POLLIN, 0}};
  if (sock >= 0 && transport_->WantWrite()) fds[1].events |= POLLOUT;
  const auto wait = std::chrono::duration_cast<milliseconds>(until - Clock::now());
  const int timeout = static_cast<int>(std::clamp<int64_t>(wait.count(), 0, kMaxPollWait.count()));
  ::poll(fds, sock >= 0 ? 2 : 1, timeout);
  if (fds[0].revents & POLLIN) {
    char buf[64];
    while (::read(wake_r_, buf, sizeof buf) > 0) {}
  }
  if (sock < 0) return;
  // Let the Transport read, write and keep alive.
  const std::string lost = transport_->Loop();
  if (!lost.empty()) GoOffline(lost);
}

void Client::Impl::Dispatch() {
  if (events_.empty()) return;
  std::vector<std::function<void(const Handlers&)>> batch;
  batch.swap(events_);
  Handlers h;
  {
    std::lock_guard lock(mu_);
    h = handlers_;
  }
  for (auto& e : batch) {
    try {
      e(h);
    } catch (...) {
      // Handlers must not break the network thread (see client.h).
    }
  }
}

void Client::Impl::PersistCursor() {
  if (options_.cursor_file.empty()) return;
  const auto c = session_.cursor();
  if (!c || c == persisted_) return;
  std::string err = detail::SaveCursorFile(options_.cursor_file, {options_.user, options_.device, *c});
  if (err.empty()) {
    persisted_ = c;
    last_file_error_.clear();
  } else if (err != last_file_error_) {
    last_file_error_ = err;
    LocalError("cursor_file", err);
    Dispatch();
  }
}

void Client::Impl::LocalError(std::string code, std::string detail) {
  ServerError e{.code = std::move(code), .detail = std::move(detail), .permanent = true, .local = true};
  events_.push_back([e](const Handlers& h) {
    if (h.on_error) h.on_error(e);
  });
}

// ---------------------------------------------------------------------------
// The Session's actions.

void Client::Impl::Apply() {
  for (auto actions = session_.TakeActions(); !actions.empty(); actions = session_.TakeActions()) {
    for (auto& a : actions) {
      std::visit(
          [this](auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, detail::PublishAction>) {
              DoPublish(v);
            } else if constexpr (std::is_same_v<T, detail::SubscribeAction>) {
              DoSubscribe(v);
            } else if constexpr (std::is_same_v<T, Message>) {
              events_.push_back([m = std::move(v)](const Handlers& h) {
                const auto& handler = m.replaces.empty() ? h.on_message
                                      : m.recall         ? (h.on_recall ? h.on_recall : h.on_message)
                                                         : (h.on_edit ? h.on_edit : h.on_message);
                if (handler) handler(m);
              });
            } else if constexpr (std::is_same_v<T, Receipt>) {
              events_.push_back([r = std::move(v)](const Handlers& h) {
                if (h.on_receipt) h.on_receipt(r);
              });
            } else if constexpr (std::is_same_v<T, Activity>) {
              events_.push_back([a = std::move(v)](const Handlers& h) {
                if (h.on_activity) h.on_activity(a);
              });
            } else if constexpr (std::is_same_v<T, ServerError>) {
              events_.push_back([e = std::move(v)](const Handlers& h) {
                if (h.on_error) h.on_error(e);
              });
            } else if constexpr (std::is_same_v<T, detail::SyncedEvent>) {
              events_.push_back([head = v.head](const Handlers& h) {
                if (h.on_synced) h.on_synced(head);
              });
            } else if constexpr (std::is_same_v<T, detail::SendDone>) {
              auto it = send_waiters_.find(v.handle);
              if (it == send_waiters_.end()) return;
              SendWaiter w = std::move(it->second);
              send_waiters_.erase(it);
              if (w.on_done) {
                events_.push_back([cb = std::move(w.on_done), r = v.result](const Handlers&) { cb(r); });
              }
              Fulfill(std::move(w.promise), std::move(v.result));
            } else if constexpr (std::is_same_v<T, detail::MarkDone> || std::is_same_v<T, detail::ActivityDone>) {
              FulfillHandle(bool_waiters_, v.handle, v.ok);
            } else if constexpr (std::is_same_v<T, detail::SyncDone> || std::is_same_v<T, detail::HeadDone>) {
              FulfillHandle(head_waiters_, v.handle, v.head);
            } else if constexpr (std::is_same_v<T, detail::CursorMoved>) {
              cursor_atomic_ = v.cursor;
            }
          },
          a);
    }
  }
  pending_count_ = session_.pending_sends();
}

void Client::Impl::DoPublish(const detail::PublishAction& p) {
  int mid = 0;
  const std::string err = transport_->Publish(&mid, p.topic, p.bytes, p.qos);
  if (p.token == 0) return;
  if (err.empty()) {
    mid_tokens_[mid] = p.token;
  } else {
    session_.OnPublishFailed(p.token);
  }
}

void Client::Impl::DoSubscribe(const detail::SubscribeAction& s) {
  int mid = 0;
  const std::string err = transport_->Subscribe(&mid, s.topics);
  if (!err.empty()) {
    transport_->Disconnect();
    GoOffline("cannot subscribe: " + err);
    return;
  }
  sub_mid_ = mid;
  phase_ = Phase::kSuback;
  phase_deadline_ = Clock::now() + options_.connect_timeout;
}

// ---------------------------------------------------------------------------
// Connection.

void Client::Impl::Emit(ConnectionState state, std::string reason) {
  ConnectionEvent e{.state = state, .reason = std::move(reason), .attempt = failures_};
  events_.push_back([e](const Handlers& h) {
    if (h.on_connection) h.on_connection(e);
  });
}

void Client::Impl::Connect() {
  Emit(ConnectionState::kConnecting);
  const std::string err = transport_->Connect(options_.host, options_.port, options_.keepalive_s);
  if (!err.empty()) {
    phase_ = Phase::kConnack;  // so that GoOffline counts it
    GoOffline("cannot connect to " + options_.host + ":" + std::to_string(options_.port) + ": " + err);
    return;
  }
  phase_ = Phase::kConnack;
  phase_deadline_ = Clock::now() + options_.connect_timeout;
}

void Client::Impl::GoOffline(const std::string& reason) {
  if (phase_ == Phase::kIdle || phase_ == Phase::kFailed || phase_ == Phase::kClosed) return;
  if (phase_ == Phase::kOnline) {
    if (Clock::now() - online_since_ >= kStableAfter) {
      failures_ = 0;
      quick_drops_ = 0;
    } else if (++quick_drops_ == kUnstableReport) {
      LocalError("unstable_connection",
                 "the connection keeps ending right after it opens; is another client using "
                 "client id " +
                     options_.device + "?");
    }
  }
  phase_ = Phase::kIdle;
  online_ = false;
  ++failures_;
  reconnect_at_ = Clock::now() + Backoffs(options_.reconnect, failures_ - 1);
  mid_tokens_.clear();
  session_.OnConnectionLost(reason, NowMs());
  Apply();
  Emit(ConnectionState::kOffline, reason);
}

void Client::Impl::Fail(const std::string& reason) {
  phase_ = Phase::kFailed;
  online_ = false;
  transport_->Disconnect();
  mid_tokens_.clear();
  session_.Finish("connection_failed", reason);
  Apply();
  Emit(ConnectionState::kFailed, reason);
}

// ---------------------------------------------------------------------------
// Transport callbacks (network thread, inside Transport::Loop).

detail::TransportCallbacks Client::Impl::Callbacks() {
  return detail::TransportCallbacks{
      .on_connack = [this](int rc) { OnConnack(rc); },
      .on_disconnect = [this](int rc, const std::string& d) { OnDisconnect(rc, d); },
      .on_puback = [this](int mid, int reason) { OnPuback(mid, reason); },
      .on_suback = [this](int mid, const std::vector<int>& granted) { OnSuback(mid, granted); },
      .on_message = [this](const std::string& topic, const std::string& payload) { OnMessage(topic, payload); },
  };
}

void Client::Impl::OnConnack(int rc) {
  if (phase_ != Phase::kConnack) return;
  if (rc == 0) {
    session_.OnConnected(NowMs());
    Apply();  // subscribes
  } else if (PermanentConnack(rc)) {
    Fail(std::string("connection refused: ") + mosquitto_reason_string(rc));
  } else {
    GoOffline(std::string("connection refused: ") + mosquitto_reason_string(rc));
  }
}

void Client::Impl::OnDisconnect(int rc, const std::string& description) {
  if (rc == MQTT_RC_SESSION_TAKEN_OVER) {
    // Another connection uses this client id: reconnecting would only
    // take it back and start a tug of war.
    if (phase_ != Phase::kClosed) { Fail("another connection took over client id " + options_.device); }
    return;
  }
  std::string reason = "connection lost";
  if (!description.empty()) reason += ": " + description;
  GoOffline(reason);
}

void Client::Impl::OnPuback(int mid, int reason) {
  auto it = mid_tokens_.find(mid);
  if (it == mid_tokens_.end()) return;
  const uint64_t token = it->second;
  mid_tokens_.erase(it);
  const detail::PubAck ack = reason < 0x80             ? detail::PubAck::kAccepted
                             : PermanentPuback(reason) ? detail::PubAck::kRefused
                                                       : detail::PubAck::kFailed;
  session_.OnPubAck(token, ack, reason >= 0x80 ? mosquitto_reason_string(reason) : "");
  Apply();
}

void Client::Impl::OnSuback(int mid, const std::vector<int>& granted) {
  if (phase_ != Phase::kSuback || mid != sub_mid_) return;
  for (int g : granted) {
    if (g >= 0x80) {
      Fail(std::string("subscription refused: ") + mosquitto_reason_string(g));
      return;
    }
  }
  phase_ = Phase::kOnline;
  online_ = true;
  online_since_ = Clock::now();
  session_.OnSubscribed(NowMs());
  Apply();
  Emit(ConnectionState::kOnline);
}

void Client::Impl::OnMessage(const std::string& topic, const std::string& payload) {
  if (phase_ != Phase::kOnline) return;
  session_.OnPublish(topic, payload, NowMs());
  Apply();
}

}  // namespace courier::client
