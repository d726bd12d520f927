// The client's network thread and everything it owns.
//
// One thread (Impl::Run) owns the mosquitto handle and all protocol state:
// pending sends, receipts, the Sequencer, the connection phase. Public
// methods only append closures to `commands_` (under `mu_`) and wake the
// thread through a pipe; the thread runs them, polls the socket and the pipe,
// lets libmosquitto read and write (mosquitto_loop with a zero timeout), runs
// timers (reconnect, retries, pull timeouts) and finally calls the user's
// handlers, outside any libmosquitto callback and without holding `mu_`.
#include "courier/client.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <utility>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "cursor_file.h"
#include "messaging.pb.h"
#include "sequencer.h"

#ifndef COURIER_CLIENT_VERSION
#define COURIER_CLIENT_VERSION "0.0.0"
#endif

namespace courier::client {

namespace v1 = ::courier::v1;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

// Signal.type, signal_type, signal_request (docs/protocol.md).
constexpr int kRequest = 1, kResponse = 2, kError = 3;
constexpr int kSenderType = 1, kDeviceType = 2, kReceiverType = 3;
constexpr int kPull = 1, kPush = 2;

constexpr milliseconds kMaxPollWait{500};
constexpr size_t kRecentIds = 4096;  // offset -> id of recent deliveries, for receipts
constexpr size_t kRecentReceipts = 1024;  // acknowledged receipts kept for a transient error
// A connection that ends sooner than this after coming online does not reset
// the reconnect backoff, and three in a row are reported: with Mosquitto
// before 2.0.15 that is how a second connection with the same client id
// shows (no DISCONNECT 0x8E), and backing off tames the tug of war.
constexpr auto kStableAfter = std::chrono::seconds(5);
constexpr int kUnstableReport = 3;

void LibInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

std::string RandomHex(size_t chars) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(chars);
  for (size_t i = 0; i < chars; ++i) out += kHex[Rng()() & 0xf];
  return out;
}

int64_t NowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

Clock::duration Backoffs(const Backoff& b, int failures) {
  double ms = static_cast<double>(b.initial.count());
  for (int i = 0; i < failures && ms < static_cast<double>(b.max.count()); ++i) ms *= 2;
  ms = std::min(ms, static_cast<double>(b.max.count()));
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double, std::milli>(ms * jitter(Rng())));
}

std::string Describe(int rc) {
  if (rc == MOSQ_ERR_ERRNO) return std::strerror(errno);
  return mosquitto_strerror(rc);
}

AckState FromProto(const v1::SignalAckState& a) {
  return AckState{.sent = a.send(), .received = a.received() || a.read(), .read = a.read()};
}

Identity FromProto(const v1::Identity& i) {
  return Identity{.user = i.user(), .device = i.device(), .group = i.group()};
}

Kind KindOf(int signal_type) {
  switch (signal_type) {
    case kSenderType: return Kind::kSender;
    case kDeviceType: return Kind::kDevice;
    case kReceiverType: return Kind::kReceiver;
    default: return Kind::kUnknown;
  }
}

Message FromProto(const v1::Message& m, bool pulled) {
  Message out;
  out.id = m.id();
  out.offset = m.signal_offset();
  out.user_offset = m.user_offset();
  out.kind = KindOf(m.signal_type());
  out.from = FromProto(m.from());
  out.to = FromProto(m.to());
  out.timestamp = m.timestamp();
  out.server_timestamp = m.server_timestamp();
  out.payload = m.payload();
  out.encryption_type = m.encryption_type();
  out.encrypted = m.encrypted();
  out.signature = m.signature();
  out.type = m.type();
  out.expiry = m.expiry();
  out.priority = m.priority();
  out.transient = m.transient();
  out.replaces = m.replaces();
  out.recall = m.recall();
  out.edited = m.edited();
  out.recalled = m.recalled();
  out.state = FromProto(m.signal_ack_state());
  out.pulled = pulled;
  return out;
}

Receipt ReceiptOf(const v1::Signal& s) {
  return Receipt{.kind = KindOf(s.signal_type()),
                 .id = s.id(),
                 .offset = s.signal_offset(),
                 .user_offset = s.user_offset(),
                 .state = FromProto(s.signal_ack_state()),
                 .from = FromProto(s.from()),
                 .to = FromProto(s.to()),
                 .timestamp = s.timestamp(),
                 .recipients = s.recipients(),
                 .received_count = s.received_count(),
                 .read_count = s.read_count()};
}

// CONNACK reason codes that another attempt will not change.
bool PermanentConnack(int rc) {
  switch (rc) {
    case MQTT_RC_UNSUPPORTED_PROTOCOL_VERSION:
    case MQTT_RC_CLIENTID_NOT_VALID:
    case MQTT_RC_BAD_USERNAME_OR_PASSWORD:
    case MQTT_RC_NOT_AUTHORIZED:
    case MQTT_RC_BANNED:
    case MQTT_RC_BAD_AUTHENTICATION_METHOD:
      return true;
    default:
      return false;
  }
}

// PUBACK reason codes that mean "this publish will never be accepted".
bool PermanentPuback(int reason) {
  switch (reason) {
    case MQTT_RC_NOT_AUTHORIZED:
    case MQTT_RC_TOPIC_NAME_INVALID:
    case MQTT_RC_PAYLOAD_FORMAT_INVALID:
    case MQTT_RC_PACKET_TOO_LARGE:
      return true;
    default:
      return false;
  }
}

struct Topics {
  std::string send, signal, inbox, events, device_inbox, device_events;
};

Topics MakeTopics(const std::string& prefix, const std::string& user, const std::string& device) {
  const std::string base = prefix + "/" + user;
  const std::string dev = base + "/devices/" + device;
  return Topics{base + "/send", base + "/signal", base + "/inbox",
                base + "/events", dev + "/inbox", dev + "/events"};
}

bool ValidName(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c == '/' || c == '+' || c == '#' || c == '\0') return false;
  }
  return true;
}

}  // namespace

std::string Version() { return COURIER_CLIENT_VERSION; }

std::string RandomId() { return RandomHex(16); }

std::pair<std::string, std::string> SplitError(const std::string& error) {
  const auto colon = error.find(':');
  if (colon == std::string::npos) return {error, ""};
  std::string detail = error.substr(colon + 1);
  const auto start = detail.find_first_not_of(' ');
  detail = start == std::string::npos ? "" : detail.substr(start);
  return {error.substr(0, colon), detail};
}

class Client::Impl {
 public:
  Impl(Options options, Handlers handlers);
  ~Impl();

  void Start();
  void Close(milliseconds drain);
  void SetHandlers(Handlers h) {
    std::lock_guard lock(mu_);
    handlers_ = std::move(h);
  }

  std::future<SendResult> Send(v1::Message m, SendOptions options);
  std::future<bool> Mark(int32_t offset, bool read);
  std::future<bool> SetActivity(Identity to, Status status);
  std::future<std::optional<int32_t>> Sync();
  std::future<std::optional<int32_t>> QueryHead();

  int32_t cursor() const { return cursor_atomic_.load(); }
  bool online() const { return online_.load(); }
  size_t pending_sends() const { return pending_count_.load(); }
  const Options& options() const { return options_; }

 private:
  enum class Phase { kIdle, kConnack, kSuback, kOnline, kFailed, kClosed };

  struct PendingSend {
    uint64_t seq = 0;
    std::string id;
    std::string bytes;  // the serialized Message, identical on every attempt
    bool transient = false;
    int attempts = 0;
    int mid = 0;        // publish mid of the last attempt on this connection
    Clock::time_point next_attempt{};
    std::optional<Clock::time_point> give_up;
    std::promise<SendResult> promise;
    SendCallback on_done;
  };
  struct PendingReceipt {
    int32_t offset = 0;
    bool read = false;
    int mid = 0;  // 0: not published on this connection
    Clock::time_point not_before{};  // after a transient error: wait until then
    int failures = 0;
    std::string id;  // what the Signal carried, for matching a transient error
    std::promise<bool> promise;
  };
  struct PendingHead {
    std::string id;
    bool sent = false;
    Clock::time_point not_before{};
    int failures = 0;
    std::promise<std::optional<int32_t>> promise;
  };
  struct SentReceipt {  // acknowledged by the broker; kept for a transient error
    int32_t offset = 0;
    bool read = false;
    int failures = 0;
  };

  // Queues `fn` for the network thread. False once the client is closed
  // (then the caller resolves its promise itself).
  bool Post(std::function<void()> fn);
  void Wake();

  void Run();
  void RunCommands();
  void Timers(Clock::time_point now);
  Clock::time_point NextWake(Clock::time_point now) const;
  void PollAndLoop(Clock::time_point until);
  bool ReadyToClose(Clock::time_point now) const;
  void Shutdown();
  void Dispatch();
  void PersistCursor();

  // Connection.
  void Connect();
  void Subscribe();
  void GoOnline();
  void GoOffline(const std::string& reason);
  void Fail(const std::string& reason);
  void Emit(ConnectionState state, std::string reason = {});

  // Work.
  void PublishSend(PendingSend& p, Clock::time_point now);
  void PublishReceipt(uint64_t n, PendingReceipt& r);
  void PublishPull(const detail::PullOrder& o);
  void PublishHead(PendingHead& h);
  void StartSync();
  void Resolve(const std::string& id, SendResult r);
  void FinishAll(const std::string& send_code, const std::string& detail);

  // Incoming.
  void OnMessage(const std::string& topic, const std::string& payload);
  void OnSignal(const v1::Signal& s);
  void OwnCopy(const std::string& id, const v1::Signal& ack);
  void Deliver(std::vector<Message> batch);
  void Synced(int32_t head);
  void LocalError(std::string code, std::string detail);
  void RememberReceipt(const std::string& id, SentReceipt r);
  // Queues a receipt again (after a transient error) to go out at `when`.
  void RequeueReceipt(SentReceipt r, Clock::time_point when);
  // Resolves `p` with `v` when the events queued so far have been dispatched,
  // so futures become ready in the same order as handlers are called.
  template <typename T, typename V>
  void Fulfill(std::promise<T>&& p, V v) {
    auto sp = std::make_shared<std::promise<T>>(std::move(p));
    events_.push_back([sp, v = std::move(v)](const Handlers&) { sp->set_value(v); });
  }

  static void CbConnect(mosquitto*, void* self, int rc, int flags, const mosquitto_property*);
  static void CbDisconnect(mosquitto*, void* self, int rc, const mosquitto_property*);
  static void CbPublish(mosquitto*, void* self, int mid, int reason, const mosquitto_property*);
  static void CbSubscribe(mosquitto*, void* self, int mid, int count, const int* granted,
                          const mosquitto_property*);
  static void CbMessage(mosquitto*, void* self, const mosquitto_message*,
                        const mosquitto_property*);

  const Options options_;
  const Topics topics_;
  const std::string id_prefix_ = RandomHex(8);
  mosquitto* mosq_ = nullptr;
  int wake_r_ = -1, wake_w_ = -1;

  // Shared with callers, guarded by mu_.
  mutable std::mutex mu_;
  std::vector<std::function<void()>> commands_;
  Handlers handlers_;
  bool closed_ = false;   // no more commands accepted
  bool started_ = false;
  std::thread thread_;
  std::thread::id thread_id_;
  std::mutex close_mu_;   // serializes Close()

  std::atomic<int32_t> cursor_atomic_{-1};
  std::atomic<bool> online_{false};
  std::atomic<size_t> pending_count_{0};

  // Network-thread state.
  Phase phase_ = Phase::kIdle;
  int failures_ = 0;  // consecutive failed connection attempts
  int quick_drops_ = 0;  // consecutive connections lost soon after coming online
  Clock::time_point online_since_{};
  Clock::time_point reconnect_at_{};
  Clock::time_point phase_deadline_{};
  int sub_mid_ = -1;
  bool closing_ = false;
  Clock::time_point close_deadline_{};

  uint64_t next_seq_ = 1;
  std::map<uint64_t, PendingSend> sends_;       // by seq: resend in submission order
  std::map<std::string, uint64_t> send_ids_;    // id -> seq
  std::map<int, uint64_t> send_mids_;           // mid -> seq
  uint64_t next_receipt_ = 1;
  std::map<uint64_t, PendingReceipt> receipts_;
  std::map<int, uint64_t> receipt_mids_;
  std::map<std::string, SentReceipt> sent_receipts_;  // by the id it carried
  std::deque<std::string> sent_receipt_order_;
  std::map<int, std::promise<bool>> activity_mids_;
  uint64_t next_head_ = 1;
  std::map<std::string, PendingHead> heads_;

  detail::Sequencer seq_;
  std::optional<Clock::time_point> pull_deadline_;
  std::optional<std::pair<detail::PullOrder, Clock::time_point>> pull_retry_;
  int pull_failures_ = 0;
  std::vector<std::promise<std::optional<int32_t>>> sync_waiting_, sync_armed_;
  std::map<int32_t, std::string> recent_ids_;
  std::optional<int32_t> persisted_;
  std::string last_file_error_;

  std::vector<std::function<void(const Handlers&)>> events_;
};

// ---------------------------------------------------------------------------
// Construction, start, close.

namespace {

std::optional<int32_t> InitialCursor(const Options& o) {
  std::optional<int32_t> from_file;
  if (!o.cursor_file.empty()) {
    if (auto rec = detail::LoadCursorFile(o.cursor_file)) {
      if (rec->user != o.user || rec->device != o.device) {
        throw std::invalid_argument("cursor file " + o.cursor_file + " belongs to " + rec->user +
                                    "/" + rec->device + ", not " + o.user + "/" + o.device);
      }
      from_file = rec->cursor;
    }
  }
  if (o.start_after) {
    if (*o.start_after < 0) throw std::invalid_argument("start_after must be >= 0");
    return o.start_after;
  }
  return from_file;
}

const Options& Validated(const Options& o) {
  if (o.host.empty()) throw std::invalid_argument("host is empty");
  if (o.port < 1 || o.port > 65535) throw std::invalid_argument("port must be in 1..65535");
  if (!ValidName(o.user)) throw std::invalid_argument("user must be a non-empty topic level");
  if (!ValidName(o.device)) throw std::invalid_argument("device must be a non-empty topic level");
  if (o.prefix.empty()) throw std::invalid_argument("prefix is empty");
  if (o.pull_limit == 0) throw std::invalid_argument("pull_limit must be positive");
  if (o.keepalive_s != 0 && (o.keepalive_s < 5 || o.keepalive_s > 65535)) {
    throw std::invalid_argument("keepalive_s must be 0 or 5..65535");
  }
  for (const Backoff* b : {&o.reconnect, &o.retry}) {
    if (b->initial.count() <= 0 || b->max < b->initial) {
      throw std::invalid_argument("a backoff needs 0 < initial <= max");
    }
  }
  if (o.connect_timeout.count() <= 0 || o.pull_timeout.count() <= 0) {
    throw std::invalid_argument("timeouts must be positive");
  }
  return o;
}

}  // namespace

Client::Impl::Impl(Options options, Handlers handlers)
    : options_(Validated(options)),
      topics_(MakeTopics(options_.prefix, options_.user, options_.device)),
      handlers_(std::move(handlers)),
      seq_(InitialCursor(options_), "sync-" + id_prefix_ + "-") {
  LibInitOnce();
  if (seq_.cursor()) {
    cursor_atomic_ = *seq_.cursor();
    if (!options_.start_after) persisted_ = seq_.cursor();  // else: write it on the first round
  }
  mosq_ = mosquitto_new(options_.device.c_str(), true, this);
  if (mosq_ == nullptr) throw std::runtime_error(std::string("mosquitto_new: ") + std::strerror(errno));
  auto fail = [this](const std::string& what) {
    mosquitto_destroy(mosq_);
    mosq_ = nullptr;
    throw std::invalid_argument(what);
  };
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
  int rc = mosquitto_username_pw_set(
      mosq_, options_.user.c_str(), options_.password.empty() ? nullptr : options_.password.c_str());
  if (rc != MOSQ_ERR_SUCCESS) fail("username: " + Describe(rc));
  if (options_.tls) {
    const TlsOptions& t = *options_.tls;
    if (t.ca_file.empty() && t.ca_path.empty()) fail("TLS needs a CA file or a CA path");
    if (t.cert_file.empty() != t.key_file.empty()) fail("TLS needs both a certificate and a key");
    auto opt = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
    rc = mosquitto_tls_set(mosq_, opt(t.ca_file), opt(t.ca_path), opt(t.cert_file),
                           opt(t.key_file), nullptr);
    if (rc != MOSQ_ERR_SUCCESS) fail("TLS files: " + Describe(rc));
    mosquitto_tls_insecure_set(mosq_, t.insecure);
  }
  mosquitto_connect_v5_callback_set(mosq_, &Impl::CbConnect);
  mosquitto_disconnect_v5_callback_set(mosq_, &Impl::CbDisconnect);
  mosquitto_publish_v5_callback_set(mosq_, &Impl::CbPublish);
  mosquitto_subscribe_v5_callback_set(mosq_, &Impl::CbSubscribe);
  mosquitto_message_v5_callback_set(mosq_, &Impl::CbMessage);

  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    mosquitto_destroy(mosq_);
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  wake_r_ = fds[0];
  wake_w_ = fds[1];
}

Client::Impl::~Impl() {
  Close(milliseconds(2000));
  if (mosq_ != nullptr) mosquitto_destroy(mosq_);
  if (wake_r_ >= 0) ::close(wake_r_);
  if (wake_w_ >= 0) ::close(wake_w_);
}

void Client::Impl::Start() {
  std::lock_guard lock(mu_);
  if (started_ || closed_) return;
  started_ = true;
  thread_ = std::thread([this] { Run(); });
  thread_id_ = thread_.get_id();
}

void Client::Impl::Close(milliseconds drain) {
  {
    std::lock_guard lock(mu_);
    if (started_ && std::this_thread::get_id() == thread_id_) {
      throw std::logic_error("courier::client::Client::close() called from a handler");
    }
  }
  std::lock_guard close_lock(close_mu_);
  bool started;
  {
    std::lock_guard lock(mu_);
    started = started_;
    if (!started) {
      if (closed_) return;
      // Never started: run what was queued here, then end it all.
      std::vector<std::function<void()>> cmds;
      cmds.swap(commands_);
      closed_ = true;
      phase_ = Phase::kClosed;
      for (auto& c : cmds) c();
    }
  }
  if (!started) {
    Shutdown();
    return;
  }
  Post([this, drain] {
    if (!closing_) {
      closing_ = true;
      close_deadline_ = Clock::now() + drain;
    }
  });
  if (thread_.joinable()) thread_.join();
}

bool Client::Impl::Post(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    commands_.push_back(std::move(fn));
  }
  Wake();
  return true;
}

void Client::Impl::Wake() {
  const char b = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_w_, &b, 1);  // full pipe: already awake
}

// ---------------------------------------------------------------------------
// The network thread.

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
  if (receipts_.empty() && activity_mids_.empty()) return true;
  return now >= close_deadline_;
}

void Client::Impl::Shutdown() {
  if (mosq_ != nullptr && mosquitto_socket(mosq_) >= 0 &&
      (phase_ == Phase::kOnline || phase_ == Phase::kSuback || phase_ == Phase::kConnack)) {
    phase_ = Phase::kClosed;
    mosquitto_disconnect_v5(mosq_, MQTT_RC_NORMAL_DISCONNECTION, nullptr);
    const auto deadline = Clock::now() + milliseconds(500);
    while (mosquitto_socket(mosq_) >= 0 && Clock::now() < deadline) {
      if (mosquitto_loop(mosq_, 50, 1) != MOSQ_ERR_SUCCESS) break;
    }
  }
  phase_ = Phase::kClosed;
  online_ = false;
  FinishAll("closed", "the client was closed");
  Emit(ConnectionState::kClosed);
  PersistCursor();
  Dispatch();
}

void Client::Impl::Timers(Clock::time_point now) {
  if (closing_) {
    // Draining: receipts still go out; nothing new starts.
    if (phase_ == Phase::kOnline) {
      for (auto& [n, r] : receipts_) {
        if (r.mid == 0 && now >= r.not_before) PublishReceipt(n, r);
      }
    }
    return;
  }
  if (phase_ == Phase::kIdle && now >= reconnect_at_) Connect();
  if ((phase_ == Phase::kConnack || phase_ == Phase::kSuback) && now >= phase_deadline_) {
    const char* what = phase_ == Phase::kConnack ? "no CONNACK" : "no SUBACK";
    mosquitto_disconnect(mosq_);
    GoOffline(std::string(what) + " within the connect timeout");
  }
  if (phase_ == Phase::kOnline) {
    if (failures_ > 0 && now - online_since_ >= kStableAfter) failures_ = quick_drops_ = 0;
    for (auto& [seq, p] : sends_) {
      if (!p.transient && now >= p.next_attempt) PublishSend(p, now);
    }
    for (auto& [n, r] : receipts_) {
      if (r.mid == 0 && now >= r.not_before) PublishReceipt(n, r);
    }
    for (auto& [id, h] : heads_) {
      if (!h.sent && now >= h.not_before) PublishHead(h);
    }
    if (pull_deadline_ && now >= *pull_deadline_) {
      pull_deadline_.reset();
      if (auto id = seq_.running_id()) {
        if (auto o = seq_.OnPullFailed(*id)) PublishPull(*o);
      }
    }
    if (pull_retry_ && now >= pull_retry_->second) {
      auto o = pull_retry_->first;
      pull_retry_.reset();
      if (seq_.running_id() == o.id) PublishPull(o);
    }
  }
  // Sends that ran out of time.
  std::vector<std::string> expired;
  for (auto& [seq, p] : sends_) {
    if (p.give_up && now >= *p.give_up) expired.push_back(p.id);
  }
  for (const auto& id : expired) {
    auto it = send_ids_.find(id);
    const int attempts = it == send_ids_.end() ? 0 : sends_.at(it->second).attempts;
    Resolve(id, SendResult{.id = id,
                           .error_code = "timeout",
                           .error_detail = online_ ? "no acknowledgement in time"
                                                   : "not connected in time",
                           .attempts = attempts});
  }
}

Clock::time_point Client::Impl::NextWake(Clock::time_point now) const {
  Clock::time_point t = now + kMaxPollWait;
  if (closing_) t = std::min(t, close_deadline_);
  if (phase_ == Phase::kIdle) t = std::min(t, reconnect_at_);
  if (phase_ == Phase::kConnack || phase_ == Phase::kSuback) t = std::min(t, phase_deadline_);
  for (const auto& [seq, p] : sends_) {
    if (phase_ == Phase::kOnline && !p.transient) t = std::min(t, p.next_attempt);
    if (p.give_up) t = std::min(t, *p.give_up);
  }
  if (pull_deadline_) t = std::min(t, *pull_deadline_);
  if (pull_retry_) t = std::min(t, pull_retry_->second);
  if (phase_ == Phase::kOnline) {
    for (const auto& [n, r] : receipts_) {
      if (r.mid == 0) t = std::min(t, r.not_before);
    }
    for (const auto& [id, h] : heads_) {
      if (!h.sent) t = std::min(t, h.not_before);
    }
  }
  return std::max(t, now);
}

void Client::Impl::PollAndLoop(Clock::time_point until) {
  const bool use_socket = phase_ == Phase::kConnack || phase_ == Phase::kSuback ||
                          phase_ == Phase::kOnline;
  const int sock = use_socket ? mosquitto_socket(mosq_) : -1;
  pollfd fds[2] = {{wake_r_, POLLIN, 0}, {sock, POLLIN, 0}};
  if (sock >= 0 && mosquitto_want_write(mosq_)) fds[1].events |= POLLOUT;
  const auto wait = std::chrono::duration_cast<milliseconds>(until - Clock::now());
  const int timeout = static_cast<int>(std::clamp<int64_t>(wait.count(), 0, kMaxPollWait.count()));
  ::poll(fds, sock >= 0 ? 2 : 1, timeout);
  if (fds[0].revents & POLLIN) {
    char buf[64];
    while (::read(wake_r_, buf, sizeof buf) > 0) {
    }
  }
  if (sock < 0) return;
  // Let libmosquitto read, write and keep alive. It reads only a few packets
  // per call, so go on while the socket still has data.
  for (int i = 0; i < 256; ++i) {
    const int rc = mosquitto_loop(mosq_, 0, 1);
    if (rc != MOSQ_ERR_SUCCESS) {
      GoOffline("connection lost: " + Describe(rc));
      return;
    }
    const int s = mosquitto_socket(mosq_);
    if (s < 0) {
      GoOffline("connection closed");
      return;
    }
    pollfd more{s, POLLIN, 0};
    if (::poll(&more, 1, 0) <= 0 || !(more.revents & POLLIN)) break;
  }
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
  const auto c = seq_.cursor();
  if (!c || c == persisted_) return;
  std::string err =
      detail::SaveCursorFile(options_.cursor_file, {options_.user, options_.device, *c});
  if (err.empty()) {
    persisted_ = c;
    last_file_error_.clear();
  } else if (err != last_file_error_) {
    last_file_error_ = err;
    LocalError("cursor_file", err);
    Dispatch();
  }
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
  const int rc = mosquitto_connect(mosq_, options_.host.c_str(), options_.port,
                                   options_.keepalive_s);
  if (rc != MOSQ_ERR_SUCCESS) {
    phase_ = Phase::kConnack;  // so that GoOffline counts it
    GoOffline("cannot connect to " + options_.host + ":" + std::to_string(options_.port) + ": " +
              Describe(rc));
    return;
  }
  phase_ = Phase::kConnack;
  phase_deadline_ = Clock::now() + options_.connect_timeout;
}

void Client::Impl::Subscribe() {
  std::vector<std::string> topics = {topics_.events, topics_.device_events};
  if (options_.receive) {
    topics.push_back(topics_.inbox);
    topics.push_back(topics_.device_inbox);
  }
  std::vector<char*> filters;
  for (auto& t : topics) filters.push_back(t.data());
  int mid = 0;
  const int rc = mosquitto_subscribe_multiple(mosq_, &mid, static_cast<int>(filters.size()),
                                              filters.data(), 1, 0, nullptr);
  if (rc != MOSQ_ERR_SUCCESS) {
    mosquitto_disconnect(mosq_);
    GoOffline("cannot subscribe: " + Describe(rc));
    return;
  }
  sub_mid_ = mid;
  phase_ = Phase::kSuback;
  phase_deadline_ = Clock::now() + options_.connect_timeout;
}

void Client::Impl::GoOnline() {
  phase_ = Phase::kOnline;
  online_ = true;
  const auto now = Clock::now();
  online_since_ = now;
  for (auto& [n, r] : receipts_) {
    if (now >= r.not_before) PublishReceipt(n, r);
  }
  for (auto& [seq, p] : sends_) PublishSend(p, now);
  for (auto& [id, h] : heads_) {
    if (now >= h.not_before) PublishHead(h);
  }
  if (options_.receive) {
    if (options_.sync_on_connect || !sync_waiting_.empty() || !seq_.cursor()) StartSync();
  }
  Emit(ConnectionState::kOnline);
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
                 "client id " + options_.device + "?");
    }
  }
  phase_ = Phase::kIdle;
  online_ = false;
  ++failures_;
  reconnect_at_ = Clock::now() + Backoffs(options_.reconnect, failures_ - 1);
  send_mids_.clear();
  receipt_mids_.clear();
  for (auto& [n, r] : receipts_) r.mid = 0;
  for (auto& [mid, p] : activity_mids_) Fulfill(std::move(p), false);
  activity_mids_.clear();
  for (auto& [id, h] : heads_) h.sent = false;
  pull_deadline_.reset();
  pull_retry_.reset();
  // Fire-and-forget sends are not retried over a new connection.
  std::vector<std::string> lost;
  for (auto& [seq, p] : sends_) {
    p.mid = 0;
    if (p.transient) lost.push_back(p.id);
  }
  for (const auto& id : lost) {
    Resolve(id, SendResult{.id = id, .error_code = "connection_lost",
                           .error_detail = "transient message not acknowledged: " + reason});
  }
  Emit(ConnectionState::kOffline, reason);
}

void Client::Impl::Fail(const std::string& reason) {
  phase_ = Phase::kFailed;
  online_ = false;
  mosquitto_disconnect(mosq_);
  FinishAll("connection_failed", reason);
  Emit(ConnectionState::kFailed, reason);
}

void Client::Impl::FinishAll(const std::string& send_code, const std::string& detail) {
  std::vector<std::string> ids;
  for (auto& [seq, p] : sends_) ids.push_back(p.id);
  for (const auto& id : ids) {
    auto it = send_ids_.find(id);
    const int attempts = sends_.at(it->second).attempts;
    Resolve(id, SendResult{.id = id, .error_code = send_code, .error_detail = detail,
                           .attempts = attempts});
  }
  for (auto& [n, r] : receipts_) Fulfill(std::move(r.promise), false);
  receipts_.clear();
  receipt_mids_.clear();
  for (auto& [mid, p] : activity_mids_) Fulfill(std::move(p), false);
  activity_mids_.clear();
  for (auto& [id, h] : heads_) Fulfill(std::move(h.promise), std::optional<int32_t>());
  heads_.clear();
  for (auto& p : sync_waiting_) Fulfill(std::move(p), std::optional<int32_t>());
  for (auto& p : sync_armed_) Fulfill(std::move(p), std::optional<int32_t>());
  sync_waiting_.clear();
  sync_armed_.clear();
}

// ---------------------------------------------------------------------------
// Publishing.

void Client::Impl::PublishSend(PendingSend& p, Clock::time_point now) {
  int mid = 0;
  const int rc = mosquitto_publish_v5(mosq_, &mid, topics_.send.c_str(),
                                      static_cast<int>(p.bytes.size()), p.bytes.data(), 1, false,
                                      nullptr);
  ++p.attempts;
  p.next_attempt = now + Backoffs(options_.retry, p.attempts - 1);
  if (rc == MOSQ_ERR_SUCCESS) {
    p.mid = mid;
    send_mids_[mid] = p.seq;
  }
}

void Client::Impl::PublishReceipt(uint64_t n, PendingReceipt& r) {
  v1::Signal s;
  // The server echoes the id (it does not check it; its notices carry the
  // stored message's id). The message's id when known, else one naming the
  // offset, so that a transient error can be matched to this receipt.
  if (auto it = recent_ids_.find(r.offset); it != recent_ids_.end()) {
    r.id = it->second;
  } else {
    r.id = "receipt-" + std::to_string(r.offset);
  }
  s.set_id(r.id);
  s.set_signal_offset(r.offset);
  s.set_timestamp(NowMs());
  s.set_type(kRequest);
  s.set_signal_type(kReceiverType);
  s.mutable_signal_ack_state()->set_received(true);
  s.mutable_signal_ack_state()->set_read(r.read);
  const std::string bytes = s.SerializeAsString();
  int mid = 0;
  if (mosquitto_publish_v5(mosq_, &mid, topics_.signal.c_str(), static_cast<int>(bytes.size()),
                           bytes.data(), 1, false, nullptr) == MOSQ_ERR_SUCCESS) {
    receipt_mids_[mid] = n;
    r.mid = mid;
  }
}

void Client::Impl::PublishPull(const detail::PullOrder& o) {
  if (phase_ != Phase::kOnline) return;  // the next GoOnline starts a new sync
  v1::Signal s;
  s.set_id(o.id);
  s.set_type(kRequest);
  s.set_signal_request(o.head_only ? kPush : kPull);
  s.set_signal_offset(o.after);
  s.set_limit(options_.pull_limit);
  s.set_timestamp(NowMs());
  const std::string bytes = s.SerializeAsString();
  mosquitto_publish_v5(mosq_, nullptr, topics_.signal.c_str(), static_cast<int>(bytes.size()),
                       bytes.data(), 1, false, nullptr);
  pull_deadline_ = Clock::now() + options_.pull_timeout;
}

void Client::Impl::PublishHead(PendingHead& h) {
  v1::Signal s;
  s.set_id(h.id);
  s.set_type(kRequest);
  s.set_signal_request(kPush);
  s.set_timestamp(NowMs());
  const std::string bytes = s.SerializeAsString();
  h.sent = mosquitto_publish_v5(mosq_, nullptr, topics_.signal.c_str(),
                                static_cast<int>(bytes.size()), bytes.data(), 1, false,
                                nullptr) == MOSQ_ERR_SUCCESS;
}

void Client::Impl::StartSync() {
  for (auto& p : sync_waiting_) sync_armed_.push_back(std::move(p));
  sync_waiting_.clear();
  pull_retry_.reset();
  const StartFrom start = options_.sync_on_connect ? options_.start_from : StartFrom::kNow;
  PublishPull(seq_.StartSync(start));
}

void Client::Impl::Resolve(const std::string& id, SendResult r) {
  auto it = send_ids_.find(id);
  if (it == send_ids_.end()) return;
  auto node = sends_.find(it->second);
  PendingSend p = std::move(node->second);
  sends_.erase(node);
  send_ids_.erase(it);
  if (p.mid != 0) send_mids_.erase(p.mid);
  pending_count_ = sends_.size();
  if (r.attempts == 0) r.attempts = p.attempts;
  if (p.on_done) {
    events_.push_back([cb = std::move(p.on_done), r](const Handlers&) { cb(r); });
  }
  Fulfill(std::move(p.promise), r);
}

// ---------------------------------------------------------------------------
// Public operations (queued to the network thread).

std::future<SendResult> Client::Impl::Send(v1::Message m, SendOptions o) {
  if (o.id.empty()) o.id = RandomHex(16);
  m.set_id(o.id);
  m.set_timestamp(o.timestamp != 0 ? o.timestamp : NowMs());
  m.set_encryption_type(o.encryption_type);
  m.set_encrypted(o.encrypted);
  m.set_signature(o.signature);
  m.set_type(o.type);
  m.set_expiry(o.expiry);
  m.set_priority(o.priority);
  m.set_transient(o.transient);

  auto p = std::make_shared<PendingSend>();
  p->id = o.id;
  p->bytes = m.SerializeAsString();
  p->transient = o.transient;
  p->on_done = std::move(o.on_done);
  if (o.timeout.count() > 0) p->give_up = Clock::now() + o.timeout;
  auto future = p->promise.get_future();
  const bool queued = Post([this, p] {
    if (phase_ == Phase::kClosed || phase_ == Phase::kFailed) {
      SendResult r{.id = p->id,
                   .error_code = phase_ == Phase::kClosed ? "closed" : "connection_failed",
                   .error_detail = "the client is not running"};
      if (p->on_done) events_.push_back([cb = p->on_done, r](const Handlers&) { cb(r); });
      Fulfill(std::move(p->promise), r);
      return;
    }
    if (send_ids_.contains(p->id)) {
      SendResult r{.id = p->id, .error_code = "id_pending",
                   .error_detail = "a send with this id is in progress"};
      if (p->on_done) events_.push_back([cb = p->on_done, r](const Handlers&) { cb(r); });
      Fulfill(std::move(p->promise), r);
      return;
    }
    const uint64_t seq = next_seq_++;
    p->seq = seq;
    send_ids_[p->id] = seq;
    PendingSend& stored = sends_.emplace(seq, std::move(*p)).first->second;
    pending_count_ = sends_.size();
    if (phase_ == Phase::kOnline) PublishSend(stored, Clock::now());
  });
  if (!queued) {
    SendResult r{.id = p->id, .error_code = "closed", .error_detail = "the client is closed"};
    p->promise.set_value(r);
    if (p->on_done) p->on_done(r);
  }
  return future;
}

std::future<bool> Client::Impl::Mark(int32_t offset, bool read) {
  auto pr = std::make_shared<std::promise<bool>>();
  auto future = pr->get_future();
  if (!Post([this, pr, offset, read] {
        if (phase_ == Phase::kClosed || phase_ == Phase::kFailed) {
          Fulfill(std::move(*pr), false);
          return;
        }
        const uint64_t n = next_receipt_++;
        PendingReceipt& r = receipts_[n];
        r.offset = offset;
        r.read = read;
        r.promise = std::move(*pr);
        if (phase_ == Phase::kOnline) PublishReceipt(n, r);
      })) {
    pr->set_value(false);
  }
  return future;
}

std::future<bool> Client::Impl::SetActivity(Identity to, Status status) {
  auto pr = std::make_shared<std::promise<bool>>();
  auto future = pr->get_future();
  if (!Post([this, pr, to = std::move(to), status] {
        if (phase_ != Phase::kOnline) {
          Fulfill(std::move(*pr), false);
          return;
        }
        v1::Signal s;
        s.set_type(kRequest);
        s.set_status(static_cast<int>(status));
        s.mutable_to()->set_user(to.user);
        s.mutable_to()->set_group(to.group);
        s.set_timestamp(NowMs());
        const std::string bytes = s.SerializeAsString();
        int mid = 0;
        if (mosquitto_publish_v5(mosq_, &mid, topics_.signal.c_str(),
                                 static_cast<int>(bytes.size()), bytes.data(), 1, false,
                                 nullptr) != MOSQ_ERR_SUCCESS) {
          Fulfill(std::move(*pr), false);
          return;
        }
        activity_mids_.emplace(mid, std::move(*pr));
      })) {
    pr->set_value(false);
  }
  return future;
}

std::future<std::optional<int32_t>> Client::Impl::Sync() {
  auto pr = std::make_shared<std::promise<std::optional<int32_t>>>();
  auto future = pr->get_future();
  if (!Post([this, pr] {
        if (!options_.receive || phase_ == Phase::kClosed || phase_ == Phase::kFailed) {
          Fulfill(std::move(*pr), std::optional<int32_t>());
          return;
        }
        sync_waiting_.push_back(std::move(*pr));
        // A running sync may have been asked before this call: wait for it,
        // then start one of our own (see Synced()).
        if (phase_ == Phase::kOnline && !seq_.pulling()) StartSync();
      })) {
    pr->set_value(std::nullopt);
  }
  return future;
}

std::future<std::optional<int32_t>> Client::Impl::QueryHead() {
  auto pr = std::make_shared<std::promise<std::optional<int32_t>>>();
  auto future = pr->get_future();
  if (!Post([this, pr] {
        if (phase_ == Phase::kClosed || phase_ == Phase::kFailed) {
          Fulfill(std::move(*pr), std::optional<int32_t>());
          return;
        }
        const std::string id = "head-" + id_prefix_ + "-" + std::to_string(next_head_++);
        PendingHead& h = heads_[id];
        h.id = id;
        h.promise = std::move(*pr);
        if (phase_ == Phase::kOnline) PublishHead(h);
      })) {
    pr->set_value(std::nullopt);
  }
  return future;
}

// ---------------------------------------------------------------------------
// Incoming.

void Client::Impl::LocalError(std::string code, std::string detail) {
  ServerError e{.code = std::move(code), .detail = std::move(detail), .permanent = true,
                .local = true};
  events_.push_back([e](const Handlers& h) {
    if (h.on_error) h.on_error(e);
  });
}

void Client::Impl::RememberReceipt(const std::string& id, SentReceipt r) {
  if (id.empty()) return;
  if (sent_receipts_.insert_or_assign(id, r).second) sent_receipt_order_.push_back(id);
  while (sent_receipts_.size() > kRecentReceipts && !sent_receipt_order_.empty()) {
    sent_receipts_.erase(sent_receipt_order_.front());
    sent_receipt_order_.pop_front();
  }
}

void Client::Impl::RequeueReceipt(SentReceipt r, Clock::time_point when) {
  PendingReceipt& p = receipts_[next_receipt_++];
  p.offset = r.offset;
  p.read = r.read;
  p.failures = r.failures;
  p.not_before = when;  // its promise: nobody waits for this copy
}

void Client::Impl::Deliver(std::vector<Message> batch) {
  if (batch.empty()) return;
  for (const auto& m : batch) {
    if (m.offset > 0) {
      recent_ids_[m.offset] = m.id;
      if (recent_ids_.size() > kRecentIds) recent_ids_.erase(recent_ids_.begin());
    }
  }
  if (auto c = seq_.cursor()) cursor_atomic_ = *c;
  events_.push_back([batch = std::move(batch)](const Handlers& h) {
    for (const auto& m : batch) {
      const auto& handler = m.replaces.empty() ? h.on_message
                            : m.recall         ? (h.on_recall ? h.on_recall : h.on_message)
                                               : (h.on_edit ? h.on_edit : h.on_message);
      if (!handler) continue;
      try {
        handler(m);
      } catch (...) {
      }
    }
  });
}

void Client::Impl::Synced(int32_t head) {
  pull_failures_ = 0;
  pull_deadline_.reset();
  std::vector<std::promise<std::optional<int32_t>>> done;
  done.swap(sync_armed_);
  for (auto& p : done) Fulfill(std::move(p), std::optional<int32_t>(head));
  events_.push_back([head](const Handlers& h) {
    if (h.on_synced) h.on_synced(head);
  });
  if (!sync_waiting_.empty()) StartSync();
}

void Client::Impl::OnMessage(const std::string& topic, const std::string& payload) {
  const bool inbox = topic == topics_.inbox;
  const bool device_inbox = topic == topics_.device_inbox;
  if (inbox || device_inbox) {
    if (!options_.receive) return;
    v1::Message pm;
    if (!pm.ParseFromString(payload)) {
      LocalError("bad_payload", "undecodable Message on " + topic);
      return;
    }
    Message m = FromProto(pm, device_inbox && pm.signal_request() == kPull);
    if (m.offset <= 0) {  // transient: not stored, not ordered
      std::vector<Message> one;
      one.push_back(std::move(m));
      Deliver(std::move(one));
      return;
    }
    std::vector<Message> out;
    auto pull = seq_.OnEntry(std::move(m), &out);
    Deliver(std::move(out));
    if (pull) PublishPull(*pull);
    return;
  }
  if (topic == topics_.events || topic == topics_.device_events) {
    v1::Signal s;
    if (!s.ParseFromString(payload)) {
      LocalError("bad_payload", "undecodable Signal on " + topic);
      return;
    }
    OnSignal(s);
  }
}

void Client::Impl::OnSignal(const v1::Signal& s) {
  const std::string& id = s.id();
  const bool has_send = !id.empty() && send_ids_.contains(id);
  const auto running = seq_.running_id();
  const bool is_pull = running && *running == id;
  auto head_it = heads_.find(id);
  const bool is_head = head_it != heads_.end();

  if (s.type() == kError) {
    auto [code, detail] = SplitError(s.error());
    if (has_send) {
      Resolve(id, SendResult{.id = id, .error_code = code, .error_detail = detail});
      return;
    }
    if (is_head) {
      Fulfill(std::move(head_it->second.promise), std::optional<int32_t>());
      heads_.erase(head_it);
    }
    ServerError e{.id = id, .code = code, .detail = detail, .permanent = true,
                  .offset = s.signal_offset(), .user_offset = s.user_offset(),
                  .from = FromProto(s.from())};
    events_.push_back([e](const Handlers& h) {
      if (h.on_error) h.on_error(e);
    });
    return;
  }
  if (s.status() != 0) {
    Activity a{.from = FromProto(s.from()), .to = FromProto(s.to()),
               .status = static_cast<Status>(s.status()), .timestamp = s.timestamp()};
    events_.push_back([a](const Handlers& h) {
      if (h.on_activity) h.on_activity(a);
    });
    return;
  }
  if (s.type() != kResponse) return;

  if (!s.signal_offset_state() && s.has_error()) {  // transient: retry later
    auto [code, detail] = SplitError(s.error());
    if (has_send) {
      auto& p = sends_.at(send_ids_.at(id));
      p.next_attempt = Clock::now() + Backoffs(options_.retry, std::max(p.attempts - 1, 0));
      return;
    }
    if (is_pull) {
      pull_deadline_.reset();
      if (auto o = seq_.OnPullFailed(id)) {
        pull_retry_ = {*o, Clock::now() + Backoffs(options_.retry, pull_failures_++)};
      }
      return;
    }
    if (is_head) {
      PendingHead& h = head_it->second;
      h.sent = false;
      h.not_before = Clock::now() + Backoffs(options_.retry, h.failures++);
      return;
    }
    if (auto r = sent_receipts_.find(id); r != sent_receipts_.end() && !id.empty()) {
      SentReceipt again = r->second;
      sent_receipts_.erase(r);
      const auto when = Clock::now() + Backoffs(options_.retry, again.failures);
      ++again.failures;
      RequeueReceipt(again, when);
      return;
    }
    ServerError e{.id = id, .code = code, .detail = detail, .permanent = false,
                  .offset = s.signal_offset(), .user_offset = s.user_offset(),
                  .from = FromProto(s.from())};
    events_.push_back([e](const Handlers& h) {
      if (h.on_error) h.on_error(e);
    });
    return;
  }

  if (s.signal_request() == kPull) {  // pull (or push) response
    if (is_head) {
      Fulfill(std::move(head_it->second.promise), std::optional<int32_t>(s.signal_offset()));
      heads_.erase(head_it);
      return;
    }
    if (!is_pull) return;  // stale
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
    if (auto c = seq_.cursor()) cursor_atomic_ = *c;
    if (next) PublishPull(*next);
    if (synced) Synced(s.signal_offset());
    return;
  }

  const int st = s.signal_type();
  if (st == kSenderType && s.signal_offset_state() && has_send) {
    OwnCopy(id, s);  // before Resolve, which forgets the send
    Resolve(id, SendResult{.id = id,
                           .ok = true,
                           .offset = s.signal_offset(),
                           .user_offset = s.user_offset(),
                           .server_timestamp = s.timestamp()});
  }
  if ((st == kSenderType && s.signal_offset_state()) || st == kReceiverType ||
      st == kDeviceType) {
    Receipt r = ReceiptOf(s);
    events_.push_back([r](const Handlers& h) {
      if (h.on_receipt) h.on_receipt(r);
    });
  }
}

// The server does not push a DEVICE copy back to the device that sent it
// (plugin_opt_echo_to_sending_device false, the default): the ack says where
// the message sits in this user's log, so the entry is rebuilt from what was
// sent, and the log has no gap to pull. When the server does push the copy,
// whichever of the two comes second is dropped as a duplicate offset.
// Fields the server resolves when it stores a message (expiry 0 becomes the
// server's default) are as sent; a pull returns them as stored.
void Client::Impl::OwnCopy(const std::string& id, const v1::Signal& ack) {
  if (!options_.receive || ack.signal_offset() <= 0) return;
  // Dedup is per user: the id may have been stored from another device of
  // this user, whose copy the server does send to this device.
  if (ack.from().user() != options_.user || ack.from().device() != options_.device) return;
  auto it = send_ids_.find(id);
  if (it == send_ids_.end()) return;
  const PendingSend& p = sends_.at(it->second);
  if (p.transient) return;
  v1::Message m;
  if (!m.ParseFromString(p.bytes)) return;
  m.set_signal_offset(ack.signal_offset());
  m.set_user_offset(ack.user_offset());
  *m.mutable_from() = ack.from();
  m.set_signal_type(kDeviceType);
  m.set_signal_offset_state(true);
  *m.mutable_signal_ack_state() = ack.signal_ack_state();
  m.set_server_timestamp(ack.timestamp());
  m.clear_signal_request();
  std::vector<Message> out;
  auto pull = seq_.OnEntry(FromProto(m, /*pulled=*/false), &out);
  Deliver(std::move(out));
  if (pull) PublishPull(*pull);
}

// ---------------------------------------------------------------------------
// libmosquitto callbacks (network thread, inside mosquitto_loop).

void Client::Impl::CbConnect(mosquitto*, void* self, int rc, int, const mosquitto_property*) {
  auto* c = static_cast<Impl*>(self);
  if (c->phase_ != Phase::kConnack) return;
  if (rc == 0) {
    c->Subscribe();
  } else if (PermanentConnack(rc)) {
    c->Fail(std::string("connection refused: ") + mosquitto_reason_string(rc));
  } else {
    c->GoOffline(std::string("connection refused: ") + mosquitto_reason_string(rc));
  }
}

void Client::Impl::CbDisconnect(mosquitto*, void* self, int rc, const mosquitto_property*) {
  auto* c = static_cast<Impl*>(self);
  if (rc == MQTT_RC_SESSION_TAKEN_OVER) {
    // Another connection uses this client id: reconnecting would only
    // take it back and start a tug of war.
    if (c->phase_ != Phase::kClosed) {
      c->Fail("another connection took over client id " + c->options_.device);
    }
    return;
  }
  std::string reason = "connection lost";
  if (rc > 0 && rc < 0x80) reason += std::string(": ") + mosquitto_strerror(rc);
  if (rc >= 0x80) reason += std::string(": ") + mosquitto_reason_string(rc);
  c->GoOffline(reason);
}

void Client::Impl::CbPublish(mosquitto*, void* self, int mid, int reason,
                             const mosquitto_property*) {
  auto* c = static_cast<Impl*>(self);
  if (auto it = c->send_mids_.find(mid); it != c->send_mids_.end()) {
    const uint64_t seq = it->second;
    c->send_mids_.erase(it);
    auto sit = c->sends_.find(seq);
    if (sit == c->sends_.end()) return;
    PendingSend& p = sit->second;
    p.mid = 0;
    if (reason >= 0x80 && PermanentPuback(reason)) {
      c->Resolve(p.id, SendResult{.id = p.id, .error_code = "refused",
                                  .error_detail = std::string("the broker refused the publish: ") +
                                                  mosquitto_reason_string(reason)});
    }
    return;
  }
  if (auto it = c->receipt_mids_.find(mid); it != c->receipt_mids_.end()) {
    auto rit = c->receipts_.find(it->second);
    c->receipt_mids_.erase(it);
    if (rit != c->receipts_.end()) {
      const PendingReceipt& r = rit->second;
      if (reason < 0x80) c->RememberReceipt(r.id, SentReceipt{r.offset, r.read, r.failures});
      c->Fulfill(std::move(rit->second.promise), reason < 0x80);
      c->receipts_.erase(rit);
    }
    return;
  }
  if (auto it = c->activity_mids_.find(mid); it != c->activity_mids_.end()) {
    c->Fulfill(std::move(it->second), reason < 0x80);
    c->activity_mids_.erase(it);
  }
}

void Client::Impl::CbSubscribe(mosquitto*, void* self, int mid, int count, const int* granted,
                               const mosquitto_property*) {
  auto* c = static_cast<Impl*>(self);
  if (c->phase_ != Phase::kSuback || mid != c->sub_mid_) return;
  for (int i = 0; i < count; ++i) {
    if (granted[i] >= 0x80) {
      c->Fail(std::string("subscription refused: ") + mosquitto_reason_string(granted[i]));
      return;
    }
  }
  c->GoOnline();
}

void Client::Impl::CbMessage(mosquitto*, void* self, const mosquitto_message* msg,
                             const mosquitto_property*) {
  auto* c = static_cast<Impl*>(self);
  if (c->phase_ != Phase::kOnline || msg->topic == nullptr) return;
  const char* bytes = static_cast<const char*>(msg->payload);
  c->OnMessage(msg->topic,
               std::string(bytes, bytes ? static_cast<size_t>(msg->payloadlen) : 0));
}

// ---------------------------------------------------------------------------
// Client: forwards to Impl.

Client::Client(Options options, Handlers handlers)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handlers))) {}
Client::~Client() = default;

void Client::start() { impl_->Start(); }
void Client::close(milliseconds drain) { impl_->Close(drain); }
void Client::setHandlers(Handlers handlers) { impl_->SetHandlers(std::move(handlers)); }

std::future<SendResult> Client::send(const std::string& to, const std::string& payload,
                                     SendOptions options) {
  v1::Message m;
  m.mutable_to()->set_user(to);
  m.set_payload(payload);
  return impl_->Send(std::move(m), std::move(options));
}

std::future<SendResult> Client::sendToGroup(const std::string& group, const std::string& payload,
                                            SendOptions options) {
  v1::Message m;
  m.mutable_to()->set_group(group);
  m.set_payload(payload);
  return impl_->Send(std::move(m), std::move(options));
}

namespace {
void SetTo(v1::Message* m, const Identity& to) {
  if (!to.group.empty()) {
    m->mutable_to()->set_group(to.group);
  } else {
    m->mutable_to()->set_user(to.user);
  }
}
}  // namespace

std::future<SendResult> Client::edit(const std::string& id, const Identity& to, const std::string& payload,
                                     SendOptions options) {
  v1::Message m;
  SetTo(&m, to);
  m.set_payload(payload);
  m.set_replaces(id);
  return impl_->Send(std::move(m), std::move(options));
}

std::future<SendResult> Client::recall(const std::string& id, const Identity& to, SendOptions options) {
  v1::Message m;
  SetTo(&m, to);
  m.set_replaces(id);
  m.set_recall(true);
  options.encrypted.clear();
  options.signature.clear();
  options.transient = false;
  return impl_->Send(std::move(m), std::move(options));
}

std::future<bool> Client::markReceived(int32_t offset) { return impl_->Mark(offset, false); }
std::future<bool> Client::markRead(int32_t offset) { return impl_->Mark(offset, true); }

std::future<bool> Client::setActivity(const std::string& to, Status status) {
  return impl_->SetActivity(Identity{.user = to}, status);
}
std::future<bool> Client::setGroupActivity(const std::string& group, Status status) {
  return impl_->SetActivity(Identity{.group = group}, status);
}

std::future<std::optional<int32_t>> Client::sync() { return impl_->Sync(); }
std::future<std::optional<int32_t>> Client::queryHead() { return impl_->QueryHead(); }
int32_t Client::cursor() const { return impl_->cursor(); }
bool Client::online() const { return impl_->online(); }
size_t Client::pendingSends() const { return impl_->pending_sends(); }
const Options& Client::options() const { return impl_->options(); }

}  // namespace courier::client
