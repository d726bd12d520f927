// Client::Impl: the state of one client (private to the library).
//
// client.cc holds construction, close and the public commands (which queue
// closures for the network thread); network.cc holds the network thread
// itself: the connection (through a Transport, transport.h), timers, and carrying out what the
// Session (session.h) asks for. Everything below "Network-thread state" is
// touched by the network thread only (or, before start(), by the caller of
// close()); `mu_` guards the rest.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "courier/client.h"
#include "session.h"
#include "transport.h"

namespace courier::client {

namespace detail {
// Uniform in [0, 1), from a per-thread generator.
double Random01();
std::string RandomHex(size_t chars);
}  // namespace detail

class Client::Impl {
 public:
  using Clock = std::chrono::steady_clock;

  Impl(Options options, Handlers handlers);
  ~Impl();

  void Start();
  void Close(std::chrono::milliseconds drain);
  void SetHandlers(Handlers h) {
    std::lock_guard lock(mu_);
    handlers_ = std::move(h);
  }

  std::future<SendResult> Send(detail::Outgoing m, SendOptions options);
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
  struct SendWaiter {
    std::promise<SendResult> promise;
    SendCallback on_done;
  };

  // Queues `fn` for the network thread. False once the client is closed
  // (then the caller resolves its promise itself).
  bool Post(std::function<void()> fn);
  void Wake();

  // The Session's clock is the wall clock (epoch ms): its times end up in
  // message timestamps, which must follow a clock set right after start (a
  // device that boots before NTP). Its deadlines are waited for on the steady
  // clock, measured from now, so a wall clock jump only shifts the ones
  // pending at that moment.
  static int64_t NowMs();
  static Clock::time_point ToSteady(int64_t ms);

  // network.cc
  void Run();
  void RunCommands();
  void Timers(Clock::time_point now);
  Clock::time_point NextWake(Clock::time_point now) const;
  void PollAndLoop(Clock::time_point until);
  bool ReadyToClose(Clock::time_point now) const;
  void Shutdown();
  void Dispatch();
  void PersistCursor();
  void Connect();
  void GoOffline(const std::string& reason);
  void Fail(const std::string& reason);
  void Emit(ConnectionState state, std::string reason = {});
  // Carries out what the Session asked for, and queues its events for
  // Dispatch(), until it asks for nothing more.
  void Apply();
  void DoPublish(const detail::PublishAction& p);
  void DoSubscribe(const detail::SubscribeAction& s);
  void LocalError(std::string code, std::string detail);
  // Resolves `p` with `v` when the events queued so far have been dispatched,
  // so futures become ready in the same order as handlers are called.
  template <typename T, typename V>
  void Fulfill(std::promise<T>&& p, V v) {
    auto sp = std::make_shared<std::promise<T>>(std::move(p));
    events_.push_back([sp, v = std::move(v)](const Handlers&) { sp->set_value(v); });
  }
  template <typename T, typename V>
  void FulfillHandle(std::map<detail::Handle, std::promise<T>>& waiters, detail::Handle h, V v) {
    auto it = waiters.find(h);
    if (it == waiters.end()) return;
    Fulfill(std::move(it->second), std::move(v));
    waiters.erase(it);
  }

  // The Transport's callbacks (network thread, inside Transport::Loop).
  detail::TransportCallbacks Callbacks();
  void OnConnack(int rc);
  void OnDisconnect(int rc, const std::string& description);
  void OnPuback(int mid, int reason);
  void OnSuback(int mid, const std::vector<int>& granted);
  void OnMessage(const std::string& topic, const std::string& payload);

  const Options options_;
  const std::string id_prefix_ = detail::RandomHex(8);
  std::unique_ptr<detail::Transport> transport_;
  int wake_r_ = -1, wake_w_ = -1;

  // Shared with callers, guarded by mu_.
  mutable std::mutex mu_;
  std::vector<std::function<void()>> commands_;
  Handlers handlers_;
  bool closed_ = false;  // no more commands accepted
  bool started_ = false;
  std::thread thread_;
  std::thread::id thread_id_;
  std::mutex close_mu_;  // serializes Close()

  std::atomic<int32_t> cursor_atomic_{-1};
  std::atomic<bool> online_{false};
  std::atomic<size_t> pending_count_{0};

  // Network-thread state.
  detail::Session session_;
  Phase phase_ = Phase::kIdle;
  int failures_ = 0;     // consecutive failed connection attempts
  int quick_drops_ = 0;  // consecutive connections lost soon after coming online
  Clock::time_point online_since_{};
  Clock::time_point reconnect_at_{};
  Clock::time_point phase_deadline_{};
  int sub_mid_ = -1;
  bool closing_ = false;
  Clock::time_point close_deadline_{};

  detail::Handle next_handle_ = 1;
  std::map<detail::Handle, SendWaiter> send_waiters_;
  std::map<detail::Handle, std::promise<bool>> bool_waiters_;                    // receipts, activity
  std::map<detail::Handle, std::promise<std::optional<int32_t>>> head_waiters_;  // sync, head
  std::map<int, uint64_t> mid_tokens_;  // publish mid -> Session token, this connection
  std::optional<int32_t> persisted_;
  std::string last_file_error_;

  std::vector<std::function<void(const Handlers&)>> events_;
};

}  // namespace courier::client
