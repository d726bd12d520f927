#include "session.h"

#include <atomic>
#include <csignal>

#include <fmt/format.h>

#include "print.h"

namespace courier::cli {
namespace {

std::atomic<bool> g_stop{false};

void on_stop_signal(int) { g_stop = true; }

}  // namespace

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000.0));
}

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = &on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool stop_requested() { return g_stop.load(); }

void Waiter::update(const std::function<void()>& fn) {
  {
    std::lock_guard lock(mu_);
    fn();
  }
  cv_.notify_all();
}

bool Waiter::wait_until(const std::function<bool()>& done, std::optional<Clock::time_point> deadline) {
  std::unique_lock lock(mu_);
  while (!done()) {
    if (stop_requested()) return false;
    auto until = Clock::now() + std::chrono::milliseconds(100);  // to notice signals
    if (deadline) {
      if (Clock::now() >= *deadline) return false;
      until = std::min(until, *deadline);
    }
    cv_.wait_until(lock, until);
  }
  return true;
}

client::Handlers ConnectionWatch::handlers(client::Handlers next) {
  auto forward = std::move(next.on_connection);
  next.on_connection = [this, forward](const client::ConnectionEvent& e) {
    on_event(e);
    if (forward) forward(e);
  };
  return next;
}

void ConnectionWatch::on_event(const client::ConnectionEvent& e) {
  bool announce_offline = false, announce_online = false;
  {
    std::lock_guard lock(mu_);
    switch (e.state) {
      case client::ConnectionState::kOnline:
        announce_online = ever_online_ && !online_;
        ever_online_ = online_ = true;
        break;
      case client::ConnectionState::kOffline:
        announce_offline = online_;
        online_ = false;
        reason_ = e.reason;
        break;
      case client::ConnectionState::kFailed:
        online_ = false;
        failed_ = true;
        reason_ = e.reason;
        break;
      default: break;
    }
  }
  if (announce_offline) emit_err(fmt::format("courier: offline ({}); reconnecting", e.reason));
  if (announce_online) emit_err("courier: online again");
  if (waiter_ != nullptr) waiter_->update([] {});
}

bool ConnectionWatch::ever_online() const {
  std::lock_guard lock(mu_);
  return ever_online_;
}
bool ConnectionWatch::online() const {
  std::lock_guard lock(mu_);
  return online_;
}
bool ConnectionWatch::failed() const {
  std::lock_guard lock(mu_);
  return failed_;
}
std::string ConnectionWatch::last_reason() const {
  std::lock_guard lock(mu_);
  return reason_;
}

}  // namespace courier::cli
