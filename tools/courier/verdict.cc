#include "verdict.h"

#include <chrono>
#include <optional>
#include <utility>

#include <fmt/format.h>

#include "commands.h"
#include "print.h"

namespace courier::cli {

namespace {
client::Options WithoutReceiving(client::Options o) {
  o.receive = false;
  return o;
}
}  // namespace

PublishOnly::PublishOnly(client::Options options)
    : client(WithoutReceiving(std::move(options)), watch.handlers(error_handlers(errors))) {
  client.start();
}

int finish(client::Client& c, ConnectionWatch& watch, Errors& errors, bool published, Clock::time_point deadline) {
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
  return waiter.wait_until([&] { return watch.online() || watch.failed(); }, deadline) && watch.online();
}

}  // namespace courier::cli
