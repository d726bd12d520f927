// `courier listen` and `courier sync`: print the user's log in offset order
// and every tick change, through the client library (which drops
// duplicates, pulls gaps and catches up after reconnects).
#include <string>

#include <fmt/format.h>

#include "commands.h"
#include "print.h"
#include "session.h"

namespace courier::cli {

int run_listen(const ListenOptions& o) {
  install_stop_handlers();
  Waiter waiter;
  ConnectionWatch watch(&waiter);

  // Written by handlers (network thread) under the waiter's lock, read by
  // the main thread in wait_until's predicate.
  bool ready = false;
  bool done = false;
  bool synced = false;
  int64_t printed = 0;

  client::Client* cp = nullptr;
  client::Handlers h;
  h.on_connection = [&](const client::ConnectionEvent& e) {
    if (e.state != client::ConnectionState::kOnline) return;
    bool first = false;
    waiter.update([&] {
      first = !ready;
      ready = true;
    });
    if (first) {
      const auto& c = cp->options();
      if (!emit(fmt::format("ready user={} device={}", token(c.user), token(c.device)))) {
        waiter.update([&] { done = true; });
      }
    }
  };
  h.on_message = [&](const client::Message& m) {
    bool stop = false;
    waiter.update([&] { stop = done; });
    if (stop) return;
    const bool ok = emit(format_message(m));
    if (ok && (o.ack || o.read) && m.offset > 0) {
      // On this user's own message from another device (DEVICE) a receipt
      // changes no tick; it only moves this device's cursor past it, so a
      // later `--pull` does not print it again.
      if (o.read && m.kind == client::Kind::kReceiver) {
        cp->markRead(m.offset);
      } else if (m.kind == client::Kind::kReceiver || m.kind == client::Kind::kDevice) {
        cp->markReceived(m.offset);
      }
    }
    waiter.update([&] {
      ++printed;
      if (!ok || (o.count && printed >= *o.count)) done = true;
    });
  };
  h.on_receipt = [&](const client::Receipt& r) { emit(format_receipt(r)); };
  h.on_activity = [&](const client::Activity& a) { emit(format_activity(a)); };
  h.on_error = [&](const client::ServerError& e) {
    if (e.local) {
      emit_err(fmt::format("warning: {}: {}", e.code, e.detail));
    } else {
      emit(format_error(e));
    }
  };
  h.on_synced = [&](int32_t head) {
    emit(fmt::format("synced head={} cursor={}", head, cp->cursor()));
    waiter.update([&] {
      synced = true;
      if (o.until_synced) done = true;
    });
  };

  client::Client c(o.common.client, watch.handlers(h));
  cp = &c;
  std::optional<Clock::time_point> deadline;
  if (o.timeout_s) deadline = Clock::now() + to_ms(*o.timeout_s);
  c.start();
  waiter.wait_until([&] { return done || watch.failed(); }, deadline);
  // Receipts already queued get up to 2 s to reach the broker.
  c.close(std::chrono::milliseconds(2000));

  if (watch.failed()) {
    emit_err(fmt::format("error: {}", watch.last_reason()));
    return kExitConnection;
  }
  if (stop_requested()) return kExitOk;
  if (!done && deadline && !watch.ever_online()) {
    emit_err(fmt::format("error: cannot connect: {}", watch.last_reason()));
    return kExitConnection;
  }
  if (o.until_synced && !synced) {
    emit_err("error: timeout: not synced in time");
    return kExitTimeout;
  }
  if (o.count && printed < *o.count) return kExitTimeout;
  return kExitOk;
}

}  // namespace courier::cli
