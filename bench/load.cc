#include "load.h"

#include <mosquitto.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <queue>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "admin.h"
#include "messaging.pb.h"

namespace courier::bench {
namespace {

using courier::v1::Message;
using courier::v1::Signal;

constexpr int kHeaderBytes = 16;         // send_ns (8), sender device (4), seq (4)
// CONNACKs outstanding at once during setup, over all generator processes:
// Mosquitto listens with a backlog of 100, and a connect beyond it waits for
// the kernel's 1 s SYN retransmit.
constexpr int kMaxPendingConnects = 64;
constexpr int kSignalRequest = 1, kSignalResponse = 2, kSignalError = 3;
constexpr int kSender = 1, kReceiver = 3;
constexpr int kPull = 1, kPush = 2;
constexpr int64_t kSecond = 1'000'000'000;

// Everything one generator process reports; trivially copyable, so it goes
// through a pipe as raw bytes (parent and child are the same binary).
struct Shard {
  char error[512];
  char first_error[256];
  int connections;
  int connected_at_end;
  double setup_s;
  uint64_t sent, sent_window, acked_window, expected_window, delivered_window, arrived_in_window;
  uint64_t device_copies, errors, disconnects;
  int64_t first_send_ns, last_ack_ns;
  Histogram deliver;
  Histogram ack;
};
static_assert(std::is_trivially_copyable_v<Shard>);

void CopyText(char* dst, size_t cap, const std::string& s) {
  std::snprintf(dst, cap, "%s", s.c_str());
}

bool WriteAll(int fd, const void* data, size_t n) {
  auto* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Reads exactly n bytes before deadline_ns; false on EOF, error or timeout.
bool ReadAll(int fd, void* data, size_t n, int64_t deadline_ns) {
  auto* p = static_cast<char*>(data);
  while (n > 0) {
    const int64_t left = deadline_ns - NowNs();
    if (left <= 0) return false;
    pollfd pfd{fd, POLLIN, 0};
    int rc = ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left / 1000000 + 1, 1000)));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) continue;
    ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

std::string GroupName(const LoadSpec& s, int k) { return "g" + s.run_tag + "-" + std::to_string(k); }

// Creates the groups of a group load through the admin API: users
// [k*G, (k+1)*G) form group k. Fails with the server's own words.
bool CreateGroups(const LoadSpec& s, std::string* error) {
  const int groups = (s.users + s.group_size - 1) / s.group_size;
  for (int first = 0; first < groups; first += 50) {
    std::string cmds;
    for (int k = first; k < std::min(groups, first + 50); ++k) {
      std::string members;
      for (int u = k * s.group_size; u < std::min(s.users, (k + 1) * s.group_size); ++u) {
        members += (members.empty() ? "\"" : ",\"") + s.user_prefix + std::to_string(u) + "\"";
      }
      cmds += std::string(cmds.empty() ? "" : ",") + R"({"command":"createGroup","group":")" + GroupName(s, k) +
              R"(","members":[)" + members + "]}";
    }
    std::string reply;
    if (!proc::AdminCall(s.host, s.port, s.admin_user, R"({"commands":[)" + cmds + "]}", std::chrono::seconds(10),
                         &reply, error)) {
      *error = "cannot create groups: " + *error;
      return false;
    }
    auto at = reply.find("\"error\"");
    if (at != std::string::npos) {
      auto q1 = reply.find('"', reply.find(':', at) + 1);
      auto q2 = q1 == std::string::npos ? q1 : reply.find('"', q1 + 1);
      *error = "the server refused to create a group: " +
               (q2 == std::string::npos ? reply : reply.substr(q1 + 1, q2 - q1 - 1));
      return false;
    }
  }
  return true;
}

class Worker;

struct Client {
  enum State { kNew, kConnecting, kSubscribing, kProbing, kReady, kDead };
  Worker* w = nullptr;
  mosquitto* m = nullptr;
  State state = kNew;
  bool out_armed = false;
  int user = 0, device = 0, gidx = 0;
  bool sender = false;
  std::string name, id;
  std::string send_topic, signal_topic, inbox, events, dev_inbox, dev_events, peer_topic;
  std::string to_user, to_group;
  // Sending.
  uint32_t seq = 0;
  int inflight = 0;
  int64_t next_ns = 0, interval_ns = 0;
  uint64_t quota = UINT64_MAX, sent = 0;
  bool queued = false;   // in the ready list or the schedule
  bool blocked = false;  // rate mode: due, but the window is full
  std::unordered_map<uint32_t, int64_t> pending;  // Courier: seq; plain: mid -> timestamp
  // Pulling.
  int32_t last = 0;
  bool pull_out = false;
  int64_t next_pull = 0;
};

class Worker {
 public:
  Worker(const LoadSpec& spec, int first_user, int end_user) : s_(spec), first_user_(first_user), end_user_(end_user) {
    r_.first_send_ns = INT64_MAX;
  }
  ~Worker() {
    for (auto& c : clients_) {
      if (c->m) mosquitto_destroy(c->m);
    }
    if (ep_ >= 0) ::close(ep_);
  }

  bool Setup();
  void Run(int64_t t0);
  Shard& result() { return r_; }

 private:
  static void OnConnect(mosquitto*, void* obj, int rc);
  static void OnDisconnect(mosquitto*, void* obj, int rc);
  static void OnSubscribe(mosquitto*, void* obj, int mid, int n, const int* granted);
  static void OnPublish(mosquitto*, void* obj, int mid);
  static void OnMessage(mosquitto*, void* obj, const mosquitto_message* msg);

  void Fail(const std::string& e) {
    if (r_.error[0] == 0) CopyText(r_.error, sizeof r_.error, e);
    stop_ = true;
  }
  void Kill(Client* c, const std::string& why);
  void Arm(Client* c);
  void Pump(int64_t timeout_ns);
  void Misc();
  void Subscribe(Client* c);
  void SendPullOrPush(Client* c, int request);
  bool SendOne(Client* c, int64_t ts);
  void Fill(Client* c, int64_t now);
  void Delivered(Client* c, const void* payload, size_t len, int64_t now);
  void Acked(Client* c, uint32_t key, int64_t now, bool ok);
  void OnCourierMessage(Client* c, const mosquitto_message* msg, int64_t now);
  void OnCourierSignal(Client* c, const mosquitto_message* msg, int64_t now);
  void Release(Client* c);
  bool InWindow(int64_t t) const { return t >= win0_ && t < win1_; }
  void Error(const std::string& text, bool fatal);

  const LoadSpec& s_;
  int first_user_, end_user_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<Client*> senders_, pullers_, ready_;
  using Due = std::pair<int64_t, Client*>;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> schedule_;
  int ep_ = -1;
  int pending_connects_ = 0;
  int64_t win0_ = INT64_MAX, win1_ = INT64_MAX, last_rx_ = 0, last_misc_ = 0;
  bool sending_ = false, stop_ = false, closing_ = false;
  std::string pad_;
  std::string buf_;
  Message msg_;
  Shard r_{};
};

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
    if (rc != MOSQ_ERR_SUCCESS) Kill(c.get(), std::string("keepalive: ") + mosquitto_strerror(rc));
    else Arm(c.get());
  }
}

bool Worker::Setup() {
  ep_ = ::epoll_create1(EPOLL_CLOEXEC);
  pad_.assign(static_cast<size_t>(std::max(s_.payload, kHeaderBytes)), 'x');
  const bool courier = s_.mode == Mode::kCourier;
  const double senders_total = double(s_.users) * s_.senders_per_user;
  for (int u = first_user_; u < end_user_; ++u) {
    for (int d = 0; d < s_.devices; ++d) {
      auto c = std::make_unique<Client>();
      c->w = this;
      c->user = u;
      c->device = d;
      c->gidx = u * s_.devices + d;
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
    }
  }
  r_.connections = static_cast<int>(clients_.size());
  const int64_t start = NowNs();
  const int64_t deadline = start + static_cast<int64_t>(s_.setup_timeout_s * 1e9);
  size_t next = 0, ready = 0;
  while (!stop_) {
    while (next < clients_.size() && pending_connects_ < std::max(4, kMaxPendingConnects / s_.procs)) {
      Client* c = clients_[next++].get();
      int rc = mosquitto_connect(c->m, s_.host.c_str(), s_.port, s_.keepalive_s);
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
  r_.setup_s = double(NowNs() - start) / 1e9;
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
  int rc = mosquitto_publish(c->m, nullptr, c->signal_topic.c_str(), static_cast<int>(buf_.size()), buf_.data(), 1, false);
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
    if (dot != std::string::npos) Acked(c, static_cast<uint32_t>(std::strtoul(id.c_str() + dot + 1, nullptr, 10)), now, false);
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
  (void)c;
  if (len < kHeaderBytes) {
    Error("a delivery is shorter than the bench header", false);
    return;
  }
  int64_t sent_ns;
  std::memcpy(&sent_ns, payload, sizeof sent_ns);
  if (InWindow(now)) ++r_.arrived_in_window;
  if (InWindow(sent_ns)) {
    ++r_.delivered_window;
    r_.deliver.Record(now - sent_ns);
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
    if (!c->to_group.empty()) msg_.mutable_to()->set_group(c->to_group);
    else msg_.mutable_to()->set_user(c->to_user);
    msg_.set_timestamp(EpochMs());
    msg_.set_payload(pad_);
    msg_.SerializeToString(&buf_);
    rc = mosquitto_publish(c->m, &mid, c->send_topic.c_str(), static_cast<int>(buf_.size()), buf_.data(), s_.send_qos, false);
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

void Worker::Run(int64_t t0) {
  const bool fill = s_.max_messages > 0;
  win0_ = fill ? t0 : t0 + static_cast<int64_t>(s_.warmup_s * 1e9);
  win1_ = fill ? INT64_MAX : win0_ + static_cast<int64_t>(s_.duration_s * 1e9);
  const int64_t hard_end = fill ? t0 + static_cast<int64_t>(s_.duration_s * 1e9) : win1_;
  while (NowNs() < t0 && !stop_) {
    Pump(std::min<int64_t>(t0 - NowNs(), 5'000'000));
    Misc();
  }
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
  std::vector<Client*> batch;
  for (;;) {
    int64_t now = NowNs();
    if (stop_ || now >= hard_end) break;
    if (fill) {
      bool done = true;
      for (Client* c : senders_) {
        if (c->state == Client::kReady && (c->sent < c->quota || c->inflight > 0)) {
          done = false;
          break;
        }
      }
      if (done) break;
    }
    batch.swap(ready_);
    for (Client* c : batch) Fill(c, now);
    batch.clear();
    while (!schedule_.empty() && schedule_.top().first <= now) {
      Client* c = schedule_.top().second;
      schedule_.pop();
      Fill(c, now);
    }
    int64_t wake = now + 5'000'000;
    for (Client* c : pullers_) {
      if (c->state != Client::kReady || c->pull_out) continue;
      if (c->next_pull <= now) {
        SendPullOrPush(c, kPull);
        Arm(c);
      } else {
        wake = std::min(wake, c->next_pull);
      }
    }
    if (!schedule_.empty()) wake = std::min(wake, schedule_.top().first);
    if (!ready_.empty()) wake = now;
    Pump(wake - NowNs());
    Misc();
  }
  for (auto& c : clients_) r_.connected_at_end += c->state == Client::kReady;
  // Drain: stop sending, wait for what is in flight (bounded).
  sending_ = false;
  const int64_t drain_end = NowNs() + static_cast<int64_t>(s_.drain_s * 1e9);
  last_rx_ = NowNs();
  while (!stop_) {
    const int64_t now = NowNs();
    if (now >= drain_end) break;
    bool idle = true;
    for (Client* c : senders_) {
      if (c->state == Client::kReady && c->inflight > 0) {
        idle = false;
        break;
      }
    }
    if (idle && now - last_rx_ > 300'000'000) break;
    for (Client* c : pullers_) {
      if (c->state == Client::kReady && !c->pull_out && c->next_pull <= now) {
        SendPullOrPush(c, kPull);
        Arm(c);
      }
    }
    Pump(5'000'000);
    Misc();
  }
  closing_ = true;
  for (auto& c : clients_) {
    if (c->state != Client::kDead && c->state != Client::kNew) mosquitto_disconnect(c->m);
  }
}

void ChildMain(const LoadSpec& spec, int first_user, int end_user, int ctl, int res) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  ::signal(SIGPIPE, SIG_IGN);
  mosquitto_lib_init();
  auto w = std::make_unique<Worker>(spec, first_user, end_user);
  const bool ok = w->Setup();
  const char tag = ok ? 'R' : 'E';
  WriteAll(res, &tag, 1);
  int64_t t0 = -1;
  if (ok && ReadAll(ctl, &t0, sizeof t0, NowNs() + 3600 * kSecond) && t0 > 0) w->Run(t0);
  WriteAll(res, &w->result(), sizeof(Shard));
  w.reset();
  mosquitto_lib_cleanup();
  ::_exit(0);
}

}  // namespace

LoadResult RunLoad(const LoadSpec& in) {
  LoadResult out;
  LoadSpec spec = in;
  if (spec.users < 2) {
    out.error = "need at least 2 users";
    return out;
  }
  if (spec.group_size < 2 && spec.users % 2 != 0) {
    out.error = "1:1 needs an even number of users (user 2k talks with 2k+1)";
    return out;
  }
  if (spec.group_size >= 2 && spec.mode != Mode::kCourier) {
    out.error = "groups need --mode courier";
    return out;
  }
  if ((spec.pull || spec.receipts) && spec.mode != Mode::kCourier) {
    out.error = "pull and receipts need --mode courier";
    return out;
  }
  spec.senders_per_user = std::clamp(spec.senders_per_user, 0, spec.devices);
  spec.procs = std::clamp(spec.procs, 1, spec.users);
  if (spec.run_tag.empty()) spec.run_tag = "r" + std::to_string(EpochMs() % 100000000);
  out.offered_rate = spec.rate;
  if (spec.group_size >= 2 && !CreateGroups(spec, &out.error)) return out;

  struct Child {
    pid_t pid = -1;
    int ctl = -1, res = -1;
    bool ready = false, done = false;
    Shard shard;
  };
  std::vector<Child> kids(static_cast<size_t>(spec.procs));
  const int64_t started = NowNs();
  for (int p = 0; p < spec.procs; ++p) {
    const int first = static_cast<int>(int64_t{spec.users} * p / spec.procs);
    const int end = static_cast<int>(int64_t{spec.users} * (p + 1) / spec.procs);
    int ctl[2], res[2];
    if (::pipe2(ctl, O_CLOEXEC) != 0 || ::pipe2(res, O_CLOEXEC) != 0) {
      out.error = std::string("pipe: ") + std::strerror(errno);
      break;
    }
    pid_t pid = ::fork();
    if (pid == 0) {
      for (auto& k : kids) {
        if (k.ctl >= 0) ::close(k.ctl);
        if (k.res >= 0) ::close(k.res);
      }
      ::close(ctl[1]);
      ::close(res[0]);
      ChildMain(spec, first, end, ctl[0], res[1]);
    }
    ::close(ctl[0]);
    ::close(res[1]);
    kids[size_t(p)].pid = pid;
    kids[size_t(p)].ctl = ctl[1];
    kids[size_t(p)].res = res[0];
    if (pid < 0) out.error = std::string("fork: ") + std::strerror(errno);
  }
  auto read_shard = [&](Child& k, int64_t deadline) {
    if (!k.done && k.res >= 0 && ReadAll(k.res, &k.shard, sizeof(Shard), deadline)) k.done = true;
  };

  // Setup: every child connects and subscribes its share, then says 'R'.
  const int64_t setup_deadline = NowNs() + static_cast<int64_t>((spec.setup_timeout_s + 10) * 1e9);
  for (auto& k : kids) {
    if (!out.error.empty() || k.pid < 0) break;
    char tag = 0;
    if (!ReadAll(k.res, &tag, 1, setup_deadline)) {
      out.error = "a generator process did not finish its setup in time";
    } else if (tag != 'R') {
      read_shard(k, NowNs() + 5 * kSecond);
      out.error = k.done ? k.shard.error : "a generator process failed during setup";
    } else {
      k.ready = true;
    }
  }
  const int64_t t0 = out.error.empty() ? NowNs() + 100'000'000 : -1;
  for (auto& k : kids) {
    if (k.ctl >= 0) WriteAll(k.ctl, &t0, sizeof t0);
  }
  if (t0 > 0) {
    const bool fill = spec.max_messages > 0;
    const int64_t w0 = fill ? t0 : t0 + static_cast<int64_t>(spec.warmup_s * 1e9);
    const int64_t w1 = fill ? t0 + static_cast<int64_t>(spec.duration_s * 1e9)
                            : w0 + static_cast<int64_t>(spec.duration_s * 1e9);
    SleepUntilNs(w0);
    StallProbe probe;
    probe.Start();
    ProcSample s0 = spec.broker_pid > 0 ? SampleProc(spec.broker_pid) : ProcSample{};
    const int64_t s0_ns = NowNs();
    ProcSample s1 = s0;
    int64_t s1_ns = s0_ns;
    // Sample until the window closes (fill mode: until every child reported).
    for (;;) {
      const int64_t now = NowNs();
      if (now >= w1) break;
      if (fill) {
        bool all = true;
        for (auto& k : kids) {
          if (!k.done) {
            pollfd pfd{k.res, POLLIN, 0};
            if (::poll(&pfd, 1, 0) > 0) read_shard(k, now + 5 * kSecond);
          }
          all = all && k.done;
        }
        if (all) break;
      }
      ::usleep(static_cast<useconds_t>(std::min<int64_t>((w1 - now) / 1000 + 1, 200000)));
      if (spec.broker_pid > 0) {
        ProcSample s = SampleProc(spec.broker_pid);
        if (s.ok) {
          s1 = s;
          s1_ns = NowNs();
          out.broker_rss_max_kb = std::max(out.broker_rss_max_kb, s.rss_kb);
        }
      }
    }
    out.stalls = probe.Stop();
    if (spec.broker_pid > 0 && s0.ok && s1.ok && s1_ns > s0_ns) {
      out.broker_cpu_pct = 100.0 * (s1.cpu_s - s0.cpu_s) / (double(s1_ns - s0_ns) / 1e9);
      out.broker_rss_kb = s1.rss_kb;
      out.broker_rss_anon_kb = s1.rss_anon_kb;
      out.broker_fds = s1.fds;
    }
    const int64_t end_deadline = std::max(NowNs(), w1) + static_cast<int64_t>((spec.drain_s + 15) * 1e9);
    for (auto& k : kids) read_shard(k, end_deadline);
  }
  // End every child by its pid.
  for (auto& k : kids) {
    if (k.pid <= 0) continue;
    if (!k.done) ::kill(k.pid, SIGKILL);
    int status = 0;
    rusage ru{};
    const int64_t deadline = NowNs() + 5 * kSecond;
    while (::wait4(k.pid, &status, WNOHANG, &ru) == 0) {
      if (NowNs() > deadline) {
        ::kill(k.pid, SIGKILL);
        ::wait4(k.pid, &status, 0, &ru);
        break;
      }
      ::usleep(2000);
    }
    out.generator_cpu_s += double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                           double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    if (k.ctl >= 0) ::close(k.ctl);
    if (k.res >= 0) ::close(k.res);
  }

  out.generator_wall_s = double(NowNs() - started) / 1e9;
  int64_t first_send = INT64_MAX, last_ack = 0;
  for (auto& k : kids) {
    if (!k.done) {
      if (out.error.empty()) out.error = "a generator process did not report (killed)";
      continue;
    }
    const Shard& s = k.shard;
    if (out.error.empty() && s.error[0]) out.error = s.error;
    if (out.first_error.empty() && s.first_error[0]) out.first_error = s.first_error;
    out.connections += s.connections;
    out.connected_at_end += s.connected_at_end;
    out.setup_s = std::max(out.setup_s, s.setup_s);
    out.sent += s.sent;
    out.sent_window += s.sent_window;
    out.acked_window += s.acked_window;
    out.expected_window += s.expected_window;
    out.delivered_window += s.delivered_window;
    out.arrived_in_window += s.arrived_in_window;
    out.device_copies += s.device_copies;
    out.errors += s.errors;
    out.disconnects += s.disconnects;
    out.deliver.Merge(s.deliver);
    out.ack.Merge(s.ack);
    first_send = std::min(first_send, s.first_send_ns);
    last_ack = std::max(last_ack, s.last_ack_ns);
  }
  if (spec.max_messages > 0) {
    out.window_s = last_ack > first_send ? double(last_ack - first_send) / 1e9 : 0;
    out.arrived_in_window = out.delivered_window;
  } else {
    out.window_s = spec.duration_s;
  }
  return out;
}

namespace {

struct Probe {
  bool connected = false, subscribed = false, answered = false, failed = false;
  int entries = 0;
  int32_t head = 0;
  std::string dev_events, dev_inbox, error;
};

}  // namespace

double PullProbe(const std::string& host, int port, const std::string& user, const std::string& device,
                 int limit, double timeout_s, int* entries, int32_t* head, std::string* error) {
  const int64_t start = NowNs();
  const int64_t deadline = start + static_cast<int64_t>(timeout_s * 1e9);
  Probe p;
  p.dev_events = "msg/" + user + "/devices/" + device + "/events";
  p.dev_inbox = "msg/" + user + "/devices/" + device + "/inbox";
  mosquitto* m = mosquitto_new(device.c_str(), true, &p);
  if (!m) {
    *error = "mosquitto_new failed";
    return -1;
  }
  mosquitto_username_pw_set(m, user.c_str(), nullptr);
  mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_connect_callback_set(m, [](mosquitto*, void* obj, int rc) {
    auto* p = static_cast<Probe*>(obj);
    if (rc == 0) p->connected = true;
    else {
      p->failed = true;
      p->error = mosquitto_connack_string(rc);
    }
  });
  mosquitto_subscribe_callback_set(m, [](mosquitto*, void* obj, int, int, const int*) {
    static_cast<Probe*>(obj)->subscribed = true;
  });
  mosquitto_message_callback_set(m, [](mosquitto*, void* obj, const mosquitto_message* msg) {
    auto* p = static_cast<Probe*>(obj);
    if (p->dev_inbox == msg->topic) {
      ++p->entries;
    } else if (p->dev_events == msg->topic) {
      Signal sig;
      if (sig.ParseFromArray(msg->payload, msg->payloadlen) && sig.type() == kSignalResponse &&
          sig.signal_request() == kPull) {
        p->head = sig.signal_offset();
        p->answered = true;
      } else {
        p->failed = true;
        p->error = "unexpected signal: " + sig.error();
      }
    }
  });
  // The port may not accept yet: retry the TCP connect until the deadline.
  bool tcp = false;
  while (!tcp && NowNs() < deadline) {
    tcp = mosquitto_connect(m, host.c_str(), port, 30) == MOSQ_ERR_SUCCESS;
    if (!tcp) ::usleep(1000);
  }
  bool sent_sub = false, sent_pull = false;
  while (tcp && !p.answered && !p.failed && NowNs() < deadline) {
    int rc = mosquitto_loop(m, 5, 1);
    if (rc != MOSQ_ERR_SUCCESS) {
      p.failed = true;
      p.error = std::string("connection: ") + mosquitto_strerror(rc);
      break;
    }
    if (p.connected && !sent_sub) {
      char* topics[2] = {p.dev_events.data(), p.dev_inbox.data()};
      mosquitto_subscribe_multiple(m, nullptr, 2, topics, 1, 0, nullptr);
      sent_sub = true;
    }
    if (p.subscribed && !sent_pull) {
      Signal sig;
      sig.set_id("probe");
      sig.set_type(kSignalRequest);
      sig.set_signal_request(kPull);
      sig.set_signal_offset(0);
      sig.set_limit(static_cast<uint32_t>(limit));
      std::string b = sig.SerializeAsString();
      const std::string topic = "msg/" + user + "/signal";
      mosquitto_publish(m, nullptr, topic.c_str(), static_cast<int>(b.size()), b.data(), 1, false);
      sent_pull = true;
    }
  }
  const int64_t end = NowNs();
  mosquitto_disconnect(m);
  mosquitto_destroy(m);
  *entries = p.entries;
  *head = p.head;
  if (!p.answered) {
    *error = p.failed ? p.error : (tcp ? "no PULL response in time" : "port never accepted");
    return -1;
  }
  return double(end - start) / 1e9;
}

}  // namespace courier::bench
