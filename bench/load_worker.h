// The load generator's worker: one process's share of the connections,
// driven by one epoll loop over libmosquitto clients (load.h). Internal to
// load.cc, load_worker.cc, load_traffic.cc and pull_probe.cc.
//
//   load_worker.cc   setup, the connections, the send loop and the drain
//   load_traffic.cc  what is sent and received: messages, acks, PULLs
#pragma once

#include <mosquitto.h>
#include <unistd.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <queue>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "histogram.h"
#include "load.h"
#include "messaging.pb.h"

namespace courier::bench::load {

using courier::v1::Message;
using courier::v1::Signal;

constexpr int kHeaderBytes = 16;  // send_ns (8), sender device (4), seq (4)
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
  Histogram deliver_same, deliver_cross;
};
static_assert(std::is_trivially_copyable_v<Shard>);

// Writes all of `data` to `fd`; false on error.
bool WriteAll(int fd, const void* data, size_t n);
// Reads exactly n bytes before deadline_ns; false on EOF, error or timeout.
bool ReadAll(int fd, void* data, size_t n, int64_t deadline_ns);
// Copies `s` into a fixed buffer, truncated, NUL-terminated.
void CopyText(char* dst, size_t cap, const std::string& s);

// The name of group k of a group load.
std::string GroupName(const LoadSpec& s, int k);

class Worker;

struct Client {
  enum State { kNew, kConnecting, kSubscribing, kProbing, kReady, kDead };
  Worker* w = nullptr;
  mosquitto* m = nullptr;
  State state = kNew;
  bool out_armed = false;
  int user = 0, device = 0, gidx = 0;
  int edge = 0;  // 0: spec.port, 1: spec.port_b
  bool sender = false;
  std::string name, id;
  std::string send_topic, signal_topic, inbox, events, dev_inbox, dev_events, peer_topic;
  std::string to_user, to_group;
  // Sending.
  uint32_t seq = 0;
  int inflight = 0;
  int64_t next_ns = 0, interval_ns = 0;
  uint64_t quota = UINT64_MAX, sent = 0;
  bool queued = false;                            // in the ready list or the schedule
  bool blocked = false;                           // rate mode: due, but the window is full
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

  // Creates, connects and subscribes this process's clients; false (and
  // result().error) when one failed or the setup timed out.
  bool Setup();
  // Sends from t0 until the window (or the fill) ends, then drains.
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
  // Setup's parts: one client's topics, options and quota; the connect loop.
  bool AddClient(int u, int d);
  bool ConnectAll();
  // Run's parts.
  void StartSending(int64_t t0);
  bool FillDone() const;
  // Sends the PULLs that are due; returns when the next one is due (at most `wake`).
  int64_t PullDue(int64_t now, int64_t wake);
  bool SendersIdle() const;
  void Drain();
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

}  // namespace courier::bench::load
