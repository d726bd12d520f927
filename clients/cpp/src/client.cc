// The client's network thread: the Transport, real time, randomness, the
// cursor file and handler dispatch around the protocol core (session.h).
//
// One thread (Impl::Run) owns the Transport (transport.h: libmosquitto, or
// MQTT over WebSocket), the connection phase and the Session. Public methods
// only append closures to `commands_` (under `mu_`) and wake the thread
// through a pipe; the thread runs them, polls the socket and the pipe, lets
// the Transport read and write (a non-blocking loop step), ticks the Session and the reconnect timer, carries out
// the Session's actions (publish, subscribe) and finally calls the user's
// handlers and resolves futures, in the order the Session produced them,
// outside any Transport callback and without holding `mu_`.
#include "courier/client.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <utility>

#include "client_impl.h"
#include "cursor_file.h"

#ifndef COURIER_CLIENT_VERSION
#define COURIER_CLIENT_VERSION "0.0.0"
#endif

namespace courier::client {

using detail::Handle;
using std::chrono::milliseconds;

namespace detail {

namespace {
std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}
}  // namespace

double Random01() { return std::uniform_real_distribution<double>(0.0, 1.0)(Rng()); }

std::string RandomHex(size_t chars) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(chars);
  for (size_t i = 0; i < chars; ++i) out += kHex[Rng()() & 0xf];
  return out;
}

}  // namespace detail

namespace {

std::optional<int32_t> InitialCursor(const Options& o) {
  std::optional<int32_t> from_file;
  if (!o.cursor_file.empty()) {
    if (auto rec = detail::LoadCursorFile(o.cursor_file)) {
      if (rec->user != o.user || rec->device != o.device) {
        throw std::invalid_argument("cursor file " + o.cursor_file + " belongs to " + rec->user + "/" + rec->device +
                                    ", not " + o.user + "/" + o.device);
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
  if (!detail::ValidName(o.user)) throw std::invalid_argument("user must be a non-empty topic level");
  if (!detail::ValidName(o.device)) { throw std::invalid_argument("device must be a non-empty topic level"); }
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
  if (o.tls) {
    if (o.tls->ca_file.empty() && o.tls->ca_path.empty())
      throw std::invalid_argument("TLS needs a CA file or a CA path");
    if (o.tls->cert_file.empty() != o.tls->key_file.empty()) {
      throw std::invalid_argument("TLS needs both a certificate and a key");
    }
  }
  if (o.transport == Transport::kWebSockets && (o.ws_path.empty() || o.ws_path[0] != '/')) {
    throw std::invalid_argument("ws_path must start with /");
  }
  return o;
}

detail::SessionConfig SessionConfigOf(const Options& o, const std::string& id_prefix) {
  return detail::SessionConfig{.user = o.user,
                               .device = o.device,
                               .prefix = o.prefix,
                               .cursor = InitialCursor(o),
                               .receive = o.receive,
                               .sync_on_connect = o.sync_on_connect,
                               .start_from = o.start_from,
                               .pull_limit = o.pull_limit,
                               .retry = o.retry,
                               .pull_timeout_ms = o.pull_timeout.count(),
                               .pull_id_prefix = "sync-" + id_prefix + "-",
                               .head_id_prefix = "head-" + id_prefix + "-",
                               .random = &detail::Random01};
}

}  // namespace

std::string Version() { return COURIER_CLIENT_VERSION; }

std::string RandomId() { return detail::RandomHex(16); }

std::pair<std::string, std::string> SplitError(const std::string& error) {
  const auto colon = error.find(':');
  if (colon == std::string::npos) return {error, ""};
  std::string detail = error.substr(colon + 1);
  const auto start = detail.find_first_not_of(' ');
  detail = start == std::string::npos ? "" : detail.substr(start);
  return {error.substr(0, colon), detail};
}

// ---------------------------------------------------------------------------
// Construction, start, close.

Client::Impl::Impl(Options options, Handlers handlers)
    : options_(Validated(options)), handlers_(std::move(handlers)), session_(SessionConfigOf(options_, id_prefix_)) {
  if (const auto c = session_.cursor()) {
    cursor_atomic_ = *c;
    if (!options_.start_after) persisted_ = c;  // else: write it on the first round
  }
  transport_ = options_.transport == Transport::kWebSockets ? detail::MakeWebSocketTransport(options_, Callbacks())
                                                            : detail::MakeMosquittoTransport(options_, Callbacks());
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  wake_r_ = fds[0];
  wake_w_ = fds[1];
}

Client::Impl::~Impl() {
  Close(milliseconds(2000));
  transport_.reset();
  if (wake_r_ >= 0) ::close(wake_r_);
  if (wake_w_ >= 0) ::close(wake_w_);
}

int64_t Client::Impl::NowMs() {
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Client::Impl::Clock::time_point Client::Impl::ToSteady(int64_t ms) { return Clock::now() + milliseconds(ms - NowMs()); }

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
      session_.SetDraining();
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
// Public operations (queued to the network thread, which hands them to the
// Session and carries out what it asks for).

std::future<SendResult> Client::Impl::Send(detail::Outgoing m, SendOptions o) {
  if (o.id.empty()) o.id = detail::RandomHex(16);
  if (o.timestamp == 0) o.timestamp = NowMs();
  auto w = std::make_shared<SendWaiter>();
  w->on_done = std::move(o.on_done);
  o.on_done = nullptr;
  auto future = w->promise.get_future();
  const std::string id = o.id;
  const bool queued = Post([this, w, m = std::move(m), o = std::move(o)]() mutable {
    const Handle h = next_handle_++;
    send_waiters_.emplace(h, std::move(*w));
    session_.Send(h, std::move(m), o, NowMs());
    Apply();
  });
  if (!queued) {
    SendResult r{.id = id, .error_code = "closed", .error_detail = "the client is closed"};
    w->promise.set_value(r);
    if (w->on_done) w->on_done(r);
  }
  return future;
}

std::future<bool> Client::Impl::Mark(int32_t offset, bool read) {
  auto pr = std::make_shared<std::promise<bool>>();
  auto future = pr->get_future();
  if (!Post([this, pr, offset, read] {
        const Handle h = next_handle_++;
        bool_waiters_.emplace(h, std::move(*pr));
        session_.Mark(h, offset, read, NowMs());
        Apply();
      })) {
    pr->set_value(false);
  }
  return future;
}

std::future<bool> Client::Impl::SetActivity(Identity to, Status status) {
  auto pr = std::make_shared<std::promise<bool>>();
  auto future = pr->get_future();
  if (!Post([this, pr, to = std::move(to), status] {
        const Handle h = next_handle_++;
        bool_waiters_.emplace(h, std::move(*pr));
        session_.SetActivity(h, to, status, NowMs());
        Apply();
      })) {
    pr->set_value(false);
  }
  return future;
}

std::future<std::optional<int32_t>> Client::Impl::Sync() {
  auto pr = std::make_shared<std::promise<std::optional<int32_t>>>();
  auto future = pr->get_future();
  if (!Post([this, pr] {
        const Handle h = next_handle_++;
        head_waiters_.emplace(h, std::move(*pr));
        session_.Sync(h, NowMs());
        Apply();
      })) {
    pr->set_value(std::nullopt);
  }
  return future;
}

std::future<std::optional<int32_t>> Client::Impl::QueryHead() {
  auto pr = std::make_shared<std::promise<std::optional<int32_t>>>();
  auto future = pr->get_future();
  if (!Post([this, pr] {
        const Handle h = next_handle_++;
        head_waiters_.emplace(h, std::move(*pr));
        session_.QueryHead(h, NowMs());
        Apply();
      })) {
    pr->set_value(std::nullopt);
  }
  return future;
}

// ---------------------------------------------------------------------------
// Client: forwards to Impl.

Client::Client(Options options, Handlers handlers)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handlers))) {}
Client::~Client() = default;

void Client::start() { impl_->Start(); }
void Client::close(milliseconds drain) { impl_->Close(drain); }
void Client::setHandlers(Handlers handlers) { impl_->SetHandlers(std::move(handlers)); }

std::future<SendResult> Client::send(const std::string& to, const std::string& payload, SendOptions options) {
  return impl_->Send({.to = {.user = to}, .payload = payload}, std::move(options));
}

std::future<SendResult> Client::sendToGroup(const std::string& group, const std::string& payload, SendOptions options) {
  return impl_->Send({.to = {.group = group}, .payload = payload}, std::move(options));
}

std::future<SendResult> Client::edit(const std::string& id, const Identity& to, const std::string& payload,
                                     SendOptions options) {
  return impl_->Send({.to = to, .payload = payload, .replaces = id}, std::move(options));
}

std::future<SendResult> Client::recall(const std::string& id, const Identity& to, SendOptions options) {
  options.encrypted.clear();
  options.signature.clear();
  options.transient = false;
  return impl_->Send({.to = to, .replaces = id, .recall = true}, std::move(options));
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
