// `courier read` (receipts) and `courier typing` (activity): publish, then
// ask the server for the head as a barrier, so that any error about what we
// published has arrived (the server answers on one topic, in order) before
// deciding the exit code.
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands.h"
#include "print.h"
#include "session.h"

namespace courier::cli {
namespace {

// Collects the server's error signals.
struct Errors {
  std::mutex mu;
  std::vector<client::ServerError> list;
};

template <typename T>
bool ready_by(std::future<T>& f, Clock::time_point deadline) {
  return f.wait_until(deadline) == std::future_status::ready;
}

// After the publishes: barrier, then map what happened to an exit code.
// Prints the errors; returns -1 when everything went through.
int finish(client::Client& c, ConnectionWatch& watch, Errors& errors, bool published,
           Clock::time_point deadline) {
  std::optional<int32_t> head;
  if (published) {
    auto barrier = c.queryHead();
    if (ready_by(barrier, deadline)) head = barrier.get();
  }
  c.close(std::chrono::milliseconds(500));
  if (watch.failed()) {
    emit_err(fmt::format("error: {}", watch.last_reason()));
    return kExitConnection;
  }
  if (!watch.ever_online()) {
    emit_err(fmt::format("error: cannot connect: {}", watch.last_reason()));
    return kExitConnection;
  }
  {
    std::lock_guard lock(errors.mu);
    for (const auto& e : errors.list) {
      emit_err(fmt::format("error: {}{}", e.code, e.detail.empty() ? "" : ": " + e.detail));
    }
    if (!errors.list.empty()) return kExitRejected;
  }
  if (!published || !head) {
    emit_err("error: timeout: no answer from the server");
    return kExitTimeout;
  }
  return -1;
}

client::Handlers error_handlers(Errors& errors) {
  client::Handlers h;
  h.on_error = [&errors](const client::ServerError& e) {
    if (e.local) {
      emit_err(fmt::format("warning: {}: {}", e.code, e.detail));
      return;
    }
    std::lock_guard lock(errors.mu);
    errors.list.push_back(e);
  };
  return h;
}

// Waits until the client is online (or failed, or the deadline passed).
bool wait_online(ConnectionWatch& watch, Waiter& waiter, Clock::time_point deadline) {
  return waiter.wait_until([&] { return watch.online() || watch.failed(); }, deadline) &&
         watch.online();
}

}  // namespace

int run_read(const ReadOptions& o) {
  const auto deadline = Clock::now() + to_ms(o.timeout_s);
  client::Options co = o.common.client;
  co.receive = false;
  Errors errors;
  Waiter waiter;
  ConnectionWatch watch(&waiter);
  client::Client c(co, watch.handlers(error_handlers(errors)));
  c.start();
  // Receipts wait for the connection by themselves; the futures tell when
  // the broker has them.
  std::vector<std::future<bool>> acks;
  for (int32_t offset : o.offsets) acks.push_back(o.read ? c.markRead(offset) : c.markReceived(offset));
  bool all = true;
  for (auto& f : acks) all = ready_by(f, deadline) && f.get() && all;
  const int rc = finish(c, watch, errors, all, deadline);
  if (rc >= 0) return rc;
  for (int32_t offset : o.offsets) {
    emit(fmt::format("marked offset={} state={}", offset, o.read ? "read" : "delivered"));
  }
  return kExitOk;
}

int run_typing(const TypingOptions& o) {
  const auto deadline = Clock::now() + to_ms(o.timeout_s);
  client::Options co = o.common.client;
  co.receive = false;
  Errors errors;
  Waiter waiter;
  ConnectionWatch watch(&waiter);
  client::Client c(co, watch.handlers(error_handlers(errors)));
  c.start();
  bool sent = false;
  if (wait_online(watch, waiter, deadline)) {
    auto f = o.to.group.empty() ? c.setActivity(o.to.user, o.status)
                                : c.setGroupActivity(o.to.group, o.status);
    sent = ready_by(f, deadline) && f.get();
  }
  const int rc = finish(c, watch, errors, sent, deadline);
  if (rc >= 0) return rc;
  if (o.to.group.empty()) {
    emit(fmt::format("activity to={} status={}", token(o.to.user), status_name(o.status)));
  } else {
    emit(fmt::format("activity group={} status={}", token(o.to.group), status_name(o.status)));
  }
  return kExitOk;
}

}  // namespace courier::cli
