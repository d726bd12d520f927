// The worker's connections and loops: setup, the epoll pump, the send loop
// and the drain (load_worker.h).
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "load_worker.h"
#include "proc.h"

namespace courier::bench::load {}  // namespace courier::bench::load

namespace courier::bench {

const char* SplitName(EdgeSplit split) {
  switch (split) {
    case EdgeSplit::kPairs: return "pairs";
    case EdgeSplit::kUsers: return "users";
    case EdgeSplit::kDevices: return "devices";
  }
  return "?";
}

int EdgeOf(const LoadSpec& s, int user, int device) {
  if (s.port_b <= 0) return 0;
  switch (s.split) {
    case EdgeSplit::kPairs: return (user / 2) % 2;
    case EdgeSplit::kUsers: return user % 2;
    case EdgeSplit::kDevices: return device % 2;
  }
  return 0;
}

}  // namespace courier::bench

namespace courier::bench::load {

std::string GroupName(const LoadSpec& s, int k) { return "g" + s.run_tag + "-" + std::to_string(k); }

void Worker::Error(const std::string& text, bool fatal) {
  ++r_.errors;
  if (r_.first_error[0] == 0) CopyText(r_.first_error, sizeof r_.first_error, text);
  if (fatal) Fail("the server refused a message: " + text);
}

void Worker::Kill(Client* c, const std::string& why) {
  if (c->state == Client::kDead) return;
  const bool was_ready = c->state == Client::kReady;
  if (c->state == Client::kConnecting) --pending_connects_;
  c->state = Client::kDead;
  int fd = mosquitto_socket(c->m);
  if (fd >= 0) ::epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
  ++r_.disconnects;
  if (r_.first_error[0] == 0) CopyText(r_.first_error, sizeof r_.first_error, c->id + ": " + why);
  if (!was_ready && !sending_) Fail("connection " + c->id + " failed during setup: " + why);
}

void Worker::Arm(Client* c) {
  if (c->state == Client::kDead) return;
  const bool want = mosquitto_want_write(c->m);
  if (want == c->out_armed) return;
  int fd = mosquitto_socket(c->m);
  if (fd < 0) return;
  epoll_event ev{};
  ev.events = EPOLLIN | (want ? uint32_t{EPOLLOUT} : 0u);
  ev.data.ptr = c;
  ::epoll_ctl(ep_, EPOLL_CTL_MOD, fd, &ev);
  c->out_armed = want;
}

void Worker::Pump(int64_t timeout_ns) {
  epoll_event events[256];
  timespec ts{};
  timeout_ns = std::max<int64_t>(0, timeout_ns);
  ts.tv_sec = timeout_ns / kSecond;
  ts.tv_nsec = timeout_ns % kSecond;
  int n = ::epoll_pwait2(ep_, events, 256, &ts, nullptr);
  for (int i = 0; i < n; ++i) {
    auto* c = static_cast<Client*>(events[i].data.ptr);
    if (c->state == Client::kDead) continue;
    if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
      int rc = mosquitto_loop_read(c->m, 1);
      if (rc != MOSQ_ERR_SUCCESS) {
        Kill(c, std::string("read: ") + mosquitto_strerror(rc));
        continue;
      }
    }
    if ((events[i].events & EPOLLOUT) || mosquitto_want_write(c->m)) {
      int rc = mosquitto_loop_write(c->m, 1);
      if (rc != MOSQ_ERR_SUCCESS) {
        Kill(c, std::string("write: ") + mosquitto_strerror(rc));
        continue;
      }
    }
    Arm(c);
  }
}

void Worker::Misc() {
  const int64_t now = NowNs();
  if (now - last_misc_ < kSecond) return;
  last_misc_ = now;
  for (auto& c : clients_) {
    if (c->state == Client::kDead || c->state == Client::kNew) continue;
    int rc = mosquitto_loop_misc(c->m);
    if (rc != MOSQ_ERR_SUCCESS)
      Kill(c.get(), std::string("keepalive: ") + mosquitto_strerror(rc));
    else
      Arm(c.get());
  }
}

bool Worker::Setup() {
  ep_ = ::epoll_create1(EPOLL_CLOEXEC);
  pad_.assign(static_cast<size_t>(std::max(s_.payload, kHeaderBytes)), 'x');
  for (int u = first_user_; u < end_user_; ++u) {
    for (int d = 0; d < s_.devices; ++d) {
      if (!AddClient(u, d)) return false;
    }
  }
  r_.connections = static_cast<int>(clients_.size());
  const int64_t start = NowNs();
  const bool ok = ConnectAll();
  r_.setup_s = double(NowNs() - start) / 1e9;
  return ok;
}

bool Worker::AddClient(int u, int d) {
  const bool courier = s_.mode == Mode::kCourier;
  const double senders_total = double(s_.users) * s_.senders_per_user;
  auto c = std::make_unique<Client>();
  c->w = this;
  c->user = u;
  c->device = d;
  c->gidx = u * s_.devices + d;
  c->edge = EdgeOf(s_, u, d);
  c->sender = d < s_.senders_per_user;
  c->name = s_.user_prefix + std::to_string(u);
  c->id = c->name + "d" + std::to_string(d);
  const std::string base = s_.prefix + "/" + c->name;
  c->send_topic = base + "/send";
  c->signal_topic = base + "/signal";
  c->inbox = courier ? base + "/inbox" : "bench/" + c->name + "/inbox";
  c->events = base + "/events";
  c->dev_inbox = base + "/devices/" + c->id + "/inbox";
  c->dev_events = base + "/devices/" + c->id + "/events";
  if (s_.group_size >= 2) {
    c->to_group = GroupName(s_, u / s_.group_size);
  } else {
    c->to_user = s_.user_prefix + std::to_string(u ^ 1);
  }
  c->peer_topic = "bench/" + c->to_user + "/inbox";
  c->m = mosquitto_new(c->id.c_str(), s_.clean_session, c.get());
  if (c->m == nullptr) {
    Fail(std::string("mosquitto_new: ") + std::strerror(errno));
    return false;
  }
  mosquitto_username_pw_set(c->m, c->name.c_str(), nullptr);
  mosquitto_max_inflight_messages_set(c->m, 0);  // the bench's window limits in-flight messages
  mosquitto_int_option(c->m, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_connect_callback_set(c->m, &Worker::OnConnect);
  mosquitto_disconnect_callback_set(c->m, &Worker::OnDisconnect);
  mosquitto_subscribe_callback_set(c->m, &Worker::OnSubscribe);
  mosquitto_publish_callback_set(c->m, &Worker::OnPublish);
  mosquitto_message_callback_set(c->m, &Worker::OnMessage);
  if (c->sender) {
    senders_.push_back(c.get());
    if (s_.rate > 0) {
      const double per = s_.rate / senders_total;
      c->interval_ns = static_cast<int64_t>(1e9 / per);
    }
    if (s_.max_messages > 0) {
      const auto total = static_cast<uint64_t>(senders_total);
      const auto idx = static_cast<uint64_t>(u) * s_.senders_per_user + d;
      c->quota = uint64_t(s_.max_messages) / total + (idx < uint64_t(s_.max_messages) % total ? 1 : 0);
    }
  }
  if (courier && s_.pull) pullers_.push_back(c.get());
  clients_.push_back(std::move(c));
  return true;
}

// Connects the clients, a bounded number of CONNACKs outstanding at a time,
// until every one is subscribed (and, pulling, knows its head).
bool Worker::ConnectAll() {
  const int64_t deadline = NowNs() + static_cast<int64_t>(s_.setup_timeout_s * 1e9);
  size_t next = 0, ready = 0;
  while (!stop_) {
    while (next < clients_.size() && pending_connects_ < std::max(4, kMaxPendingConnects / s_.procs)) {
      Client* c = clients_[next++].get();
      int rc = mosquitto_connect(c->m, s_.host.c_str(), c->edge ? s_.port_b : s_.port, s_.keepalive_s);
      if (rc != MOSQ_ERR_SUCCESS) {
        Fail("connect " + c->id + ": " + (rc == MOSQ_ERR_ERRNO ? std::strerror(errno) : mosquitto_strerror(rc)));
        return false;
      }
      c->state = Client::kConnecting;
      ++pending_connects_;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = c;
      ::epoll_ctl(ep_, EPOLL_CTL_ADD, mosquitto_socket(c->m), &ev);
      Arm(c);
    }
    Pump(5'000'000);
    Misc();
    ready = 0;
    for (auto& c : clients_) ready += c->state == Client::kReady;
    if (ready == clients_.size()) break;
    if (NowNs() > deadline) {
      Fail("setup timed out: " + std::to_string(ready) + " of " + std::to_string(clients_.size()) +
           " connections ready after " + std::to_string(s_.setup_timeout_s) + " s");
      break;
    }
  }
  return !stop_;
}

void Worker::Subscribe(Client* c) {
  std::vector<std::string> topics;
  if (s_.mode == Mode::kPlain) {
    topics = {c->inbox};
  } else if (s_.pull) {
    topics = {c->events, c->dev_inbox, c->dev_events};
  } else {
    topics = {c->inbox, c->events, c->dev_events};
  }
  std::vector<char*> ptrs;
  for (auto& t : topics) ptrs.push_back(t.data());
  int mid = 0;
  int rc = mosquitto_subscribe_multiple(c->m, &mid, static_cast<int>(ptrs.size()), ptrs.data(), 1, 0, nullptr);
  if (rc != MOSQ_ERR_SUCCESS) Kill(c, std::string("subscribe: ") + mosquitto_strerror(rc));
  c->state = Client::kSubscribing;
}

void Worker::OnConnect(mosquitto*, void* obj, int rc) {
  auto* c = static_cast<Client*>(obj);
  Worker* w = c->w;
  if (c->state != Client::kConnecting) return;
  --w->pending_connects_;
  if (rc != 0) {
    w->Kill(c, std::string("refused: ") + mosquitto_connack_string(rc));
    return;
  }
  w->Subscribe(c);
}

void Worker::OnDisconnect(mosquitto*, void* obj, int rc) {
  auto* c = static_cast<Client*>(obj);
  if (c->w->closing_) return;
  c->w->Kill(c, std::string("disconnected: ") + mosquitto_strerror(rc));
}

void Worker::OnSubscribe(mosquitto*, void* obj, int, int n, const int* granted) {
  auto* c = static_cast<Client*>(obj);
  Worker* w = c->w;
  for (int i = 0; i < n; ++i) {
    if (granted[i] >= 0x80) {
      w->Kill(c, "subscription refused");
      return;
    }
  }
  if (w->s_.mode == Mode::kCourier && w->s_.pull) {
    c->state = Client::kProbing;
    w->SendPullOrPush(c, kPush);  // learn the head first: pull only what arrives from now on
  } else {
    c->state = Client::kReady;
  }
}

void Worker::Run(int64_t t0) {
  const bool fill = s_.max_messages > 0;
  win0_ = fill ? t0 : t0 + static_cast<int64_t>(s_.warmup_s * 1e9);
  win1_ = fill ? INT64_MAX : win0_ + static_cast<int64_t>(s_.duration_s * 1e9);
  const int64_t hard_end = fill ? t0 + static_cast<int64_t>(s_.duration_s * 1e9) : win1_;
  while (NowNs() < t0 && !stop_) {
    Pump(std::min<int64_t>(t0 - NowNs(), 5'000'000));
    Misc();
  }
  StartSending(t0);
  std::vector<Client*> batch;
  for (;;) {
    int64_t now = NowNs();
    if (stop_ || now >= hard_end) break;
    if (fill && FillDone()) break;
    batch.swap(ready_);
    for (Client* c : batch) Fill(c, now);
    batch.clear();
    while (!schedule_.empty() && schedule_.top().first <= now) {
      Client* c = schedule_.top().second;
      schedule_.pop();
      Fill(c, now);
    }
    int64_t wake = PullDue(now, now + 5'000'000);
    if (!schedule_.empty()) wake = std::min(wake, schedule_.top().first);
    if (!ready_.empty()) wake = now;
    Pump(wake - NowNs());
    Misc();
  }
  for (auto& c : clients_) r_.connected_at_end += c->state == Client::kReady;
  Drain();
  closing_ = true;
  for (auto& c : clients_) {
    if (c->state != Client::kDead && c->state != Client::kNew) mosquitto_disconnect(c->m);
  }
}

// Queues every sender: closed loop at once, open loop on its schedule.
void Worker::StartSending(int64_t t0) {
  sending_ = true;
  const double total_senders = double(s_.users) * s_.senders_per_user;
  for (Client* c : senders_) {
    c->queued = true;
    if (s_.rate > 0) {
      // Spread the senders' first sends evenly over one interval.
      const double phase = double(c->user * s_.senders_per_user + c->device) / total_senders;
      c->next_ns = t0 + static_cast<int64_t>(phase * double(c->interval_ns));
      schedule_.push({c->next_ns, c});
    } else {
      ready_.push_back(c);
    }
  }
  for (Client* c : pullers_) c->next_pull = t0;
}

// Fill mode: every connected sender sent its quota and holds every ack.
bool Worker::FillDone() const {
  for (Client* c : senders_) {
    if (c->state == Client::kReady && (c->sent < c->quota || c->inflight > 0)) return false;
  }
  return true;
}

int64_t Worker::PullDue(int64_t now, int64_t wake) {
  for (Client* c : pullers_) {
    if (c->state != Client::kReady || c->pull_out) continue;
    if (c->next_pull <= now) {
      SendPullOrPush(c, kPull);
      Arm(c);
    } else {
      wake = std::min(wake, c->next_pull);
    }
  }
  return wake;
}

bool Worker::SendersIdle() const {
  for (Client* c : senders_) {
    if (c->state == Client::kReady && c->inflight > 0) return false;
  }
  return true;
}

// Stop sending, wait for what is in flight (bounded).
void Worker::Drain() {
  sending_ = false;
  const int64_t drain_end = NowNs() + static_cast<int64_t>(s_.drain_s * 1e9);
  last_rx_ = NowNs();
  while (!stop_) {
    const int64_t now = NowNs();
    if (now >= drain_end) break;
    if (SendersIdle() && now - last_rx_ > 300'000'000) break;
    for (Client* c : pullers_) {
      if (c->state == Client::kReady && !c->pull_out && c->next_pull <= now) {
        SendPullOrPush(c, kPull);
        Arm(c);
      }
    }
    Pump(5'000'000);
    Misc();
  }
}

}  // namespace courier::bench::load
