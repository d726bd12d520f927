// `courier listen` and `courier sync`: print the user's log in offset order
// and every tick change, through the client library (which drops
// duplicates, pulls gaps and catches up after reconnects).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "args.h"
#include "commands.h"
#include "print.h"
#include "session.h"

namespace courier::cli {

namespace {

// One listen (or sync) run. The handlers run on the client's network
// thread; what they share with the main thread (ready_, done_, synced_,
// printed_) is written under the waiter's lock and read in wait_until's
// predicate.
class Listener {
 public:
  explicit Listener(const ListenOptions& o) : o_(o) {}
  int run();

 private:
  client::Handlers handlers();
  void on_online();
  void on_message(const client::Message& m);
  void on_synced(int32_t head);
  // After the client closed: the exit code.
  int exit_code(const std::optional<Clock::time_point>& deadline);

  const ListenOptions& o_;
  Waiter waiter_;
  ConnectionWatch watch_{&waiter_};
  bool ready_ = false;
  bool done_ = false;
  bool synced_ = false;
  int64_t printed_ = 0;
  client::Client* c_ = nullptr;
};

client::Handlers Listener::handlers() {
  client::Handlers h;
  h.on_connection = [this](const client::ConnectionEvent& e) {
    if (e.state == client::ConnectionState::kOnline) on_online();
  };
  h.on_message = [this](const client::Message& m) { on_message(m); };
  h.on_receipt = [](const client::Receipt& r) { emit(format_receipt(r)); };
  h.on_activity = [](const client::Activity& a) { emit(format_activity(a)); };
  h.on_error = [](const client::ServerError& e) {
    if (e.local) {
      emit_err(fmt::format("warning: {}: {}", e.code, e.detail));
    } else {
      emit(format_error(e));
    }
  };
  h.on_synced = [this](int32_t head) { on_synced(head); };
  return h;
}

void Listener::on_online() {
  bool first = false;
  waiter_.update([&] {
    first = !ready_;
    ready_ = true;
  });
  if (first) {
    const auto& c = c_->options();
    if (!emit(fmt::format("ready user={} device={}", token(c.user), token(c.device)))) {
      waiter_.update([&] { done_ = true; });
    }
  }
}

void Listener::on_message(const client::Message& m) {
  bool stop = false;
  waiter_.update([&] { stop = done_; });
  if (stop) return;
  const bool ok = emit(format_message(m));
  if (ok && (o_.ack || o_.read) && m.offset > 0) {
    // On this user's own message from another device (DEVICE) a receipt
    // changes no tick; it only moves this device's cursor past it, so a
    // later `--pull` does not print it again.
    if (o_.read && m.kind == client::Kind::kReceiver) {
      c_->markRead(m.offset);
    } else if (m.kind == client::Kind::kReceiver || m.kind == client::Kind::kDevice) {
      c_->markReceived(m.offset);
    }
  }
  waiter_.update([&] {
    ++printed_;
    if (!ok || (o_.count && printed_ >= *o_.count)) done_ = true;
  });
}

void Listener::on_synced(int32_t head) {
  emit(fmt::format("synced head={} cursor={}", head, c_->cursor()));
  waiter_.update([&] {
    synced_ = true;
    if (o_.until_synced) done_ = true;
  });
}

int Listener::run() {
  client::Client c(o_.common.client, watch_.handlers(handlers()));
  c_ = &c;
  std::optional<Clock::time_point> deadline;
  if (o_.timeout_s) deadline = Clock::now() + to_ms(*o_.timeout_s);
  c.start();
  waiter_.wait_until([&] { return done_ || watch_.failed(); }, deadline);
  // Receipts already queued get up to 2 s to reach the broker.
  c.close(std::chrono::milliseconds(2000));
  return exit_code(deadline);
}

int Listener::exit_code(const std::optional<Clock::time_point>& deadline) {
  if (watch_.failed()) {
    emit_err(fmt::format("error: {}", watch_.last_reason()));
    return kExitConnection;
  }
  if (stop_requested()) return kExitOk;
  if (!done_ && deadline && !watch_.ever_online()) {
    emit_err(fmt::format("error: cannot connect: {}", watch_.last_reason()));
    return kExitConnection;
  }
  if (o_.until_synced && !synced_) {
    emit_err("error: timeout: not synced in time");
    return kExitTimeout;
  }
  if (o_.count && printed_ < *o_.count) return kExitTimeout;
  return kExitOk;
}

}  // namespace

int run_listen(const ListenOptions& o) {
  install_stop_handlers();
  Listener listener(o);
  return listener.run();
}

// The `listen` and `sync` commands: their help, their arguments, their
// entries in main.cc's table.
namespace {

constexpr std::string_view kListenUsage = R"(usage: courier listen [options]

Prints every message of the user's log once, in offset order, and every tick
change (sent, delivered, read), activity and error, one line each. Reconnects
by itself and catches up after each reconnect.

Listen options:
      --pull            start with what this device has not acknowledged yet
                        (the server's cursor); default: only what arrives now
      --from-start      start with the whole log
      --from N          start after offset N
      --state FILE      keep the cursor in FILE and continue from it next time
      --ack             send a `received` receipt for each incoming message
      --read            send a `read` receipt for each incoming message
      --count N         exit after printing N message lines
      --timeout S       exit after S seconds (default: run until SIGINT/SIGTERM)
)";

constexpr std::string_view kSyncUsage = R"(usage: courier sync [options]

Catches up and exits: prints every message after the starting point, then
`synced head=H cursor=C`.

Sync options:
      --state FILE      continue from (and update) the cursor in FILE
      --from-start      start with the whole log
      --from N          start after offset N
                        (default: after this device's cursor on the server)
      --ack             send a `received` receipt for each incoming message
      --read            send a `read` receipt for each incoming message
      --timeout S       give up after S seconds (default 30)
)";

// --pull / --from-start / --from N / --state FILE
bool parse_start(std::string_view a, Args& args, client::Options& o, bool* chosen) {
  if (a == "--pull") {
    o.start_from = client::StartFrom::kServerCursor;
  } else if (a == "--from-start") {
    o.start_from = client::StartFrom::kBeginning;
  } else if (a == "--from") {
    o.start_after = static_cast<int32_t>(parse_int(a, args.value(a), 0, INT32_MAX));
  } else if (a == "--state") {
    o.cursor_file = args.value(a);
    return true;  // not a choice of starting point
  } else {
    return false;
  }
  if (*chosen) throw UsageError("give only one of --pull, --from-start, --from");
  *chosen = true;
  return true;
}

ListenOptions parse_listen(Args& args, bool sync) {
  ListenOptions o;
  client::Options& c = o.common.client;
  c.start_from = sync ? client::StartFrom::kServerCursor : client::StartFrom::kNow;
  o.until_synced = sync;
  if (sync) o.timeout_s = 30;
  bool chosen = false;
  parse_options(sync ? kSyncCommand : kListenCommand, args, &o.common, [&](std::string_view a, bool) {
    if (a == "--pull" && sync) return false;
    if (parse_start(a, args, c, &chosen)) {
    } else if (a == "--ack") {
      o.ack = true;
    } else if (a == "--read") {
      o.read = true;
    } else if (a == "--count" && !sync) {
      o.count = parse_int(a, args.value(a), 1, INT64_MAX);
    } else if (a == "--timeout") {
      o.timeout_s = parse_seconds(a, args.value(a));
    } else {
      return false;
    }
    return true;
  });
  return o;
}

int listen_main(Args& args) { return run_listen(parse_listen(args, false)); }
int sync_main(Args& args) { return run_listen(parse_listen(args, true)); }

}  // namespace

const Command kListenCommand{
    "listen",          "print messages and their ticks (sent, delivered, read) as they change",
    kListenUsage,
    /*connects=*/true, &listen_main,
};
const Command kSyncCommand{
    "sync",
    "print what this device has not seen yet, then exit",
    kSyncUsage,
    /*connects=*/true,
    &sync_main,
};

}  // namespace courier::cli
