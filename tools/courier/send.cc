// `courier send`: send one message through the client library and wait for
// the server's verdict (the library retries the same id until then).
#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "args.h"
#include "commands.h"
#include "print.h"
#include "session.h"

namespace courier::cli {

int run_send(const SendOptions& o) {
  client::Options co = o.common.client;
  co.receive = false;  // acknowledgements and errors only
  ConnectionWatch watch;
  client::Client c(co, watch.handlers());

  client::SendOptions so;
  so.id = o.id;
  so.type = o.type;
  so.expiry = o.expiry;
  so.priority = o.priority;
  so.transient = o.transient;
  so.timeout = to_ms(o.timeout_s);
  const client::Identity to{.user = o.to.user, .device = {}, .group = o.to.group};
  auto future = !o.recall.empty()    ? c.recall(o.recall, to, so)
                : !o.edit.empty()    ? c.edit(o.edit, to, o.text, so)
                : o.to.group.empty() ? c.send(o.to.user, o.text, so)
                                     : c.sendToGroup(o.to.group, o.text, so);
  c.start();
  const client::SendResult r = future.get();
  c.close(std::chrono::milliseconds(500));

  if (r.ok) {
    emit(fmt::format("sent id={} offset={} user_offset={}", token(r.id), r.offset, r.user_offset));
    return kExitOk;
  }
  if (r.error_code == "connection_failed") {
    emit_err(fmt::format("error: {}", r.error_detail));
    return kExitConnection;
  }
  if (r.error_code == "timeout") {
    if (!watch.ever_online()) {
      emit_err(fmt::format("error: cannot connect: {}", watch.last_reason()));
      return kExitConnection;
    }
    emit_err(fmt::format("error: timeout: no acknowledgement (id={}, {} attempt{})", token(r.id), r.attempts,
                         r.attempts == 1 ? "" : "s"));
    return kExitTimeout;
  }
  if (r.error_code == "closed" || r.error_code == "connection_lost") {
    emit_err(fmt::format("error: {}: {}", r.error_code, r.error_detail));
    return kExitConnection;
  }
  emit_err(fmt::format("error: {}{}", r.error_code, r.error_detail.empty() ? "" : ": " + r.error_detail));
  return kExitRejected;
}

// The `send` command: its help, its arguments, its entry in main.cc's table.
namespace {

constexpr std::string_view kSendUsage = R"(usage: courier send [options] (--to USER | --group GROUP) TEXT...
       courier send [options] (--to USER | --group GROUP) --edit ID TEXT...
       courier send [options] (--to USER | --group GROUP) --recall ID

Publishes TEXT (several words are joined with spaces) and waits for the
SENDER acknowledgement, retrying the same id with backoff (also across
reconnects) until the timeout. Prints `sent id=ID offset=N user_offset=M`.

Send options:
      --to USER         receiving user
      --group GROUP     receiving group (instead of --to)
      --id ID           message id (default: 16 random hex characters)
      --type N          application-defined message type (default 0)
      --expiry S        seconds the server may hold it undelivered (default: server's)
      --priority N      0 (highest) .. 15 (lowest) (default 0)
      --transient       fire-and-forget: not stored, online devices only
      --edit ID         change message ID (sent by this user to the same
                        user or group) to TEXT
      --recall ID       take message ID back: its content is erased everywhere
      --timeout S       give up after S seconds (default 10)
)";

SendOptions parse_send(Args& args) {
  SendOptions o;
  std::vector<std::string> words;
  parse_options(kSendCommand, args, &o.common, [&](std::string_view a, bool positional) {
    if (positional) {
      words.emplace_back(a);
    } else if (parse_target(a, args, o.to)) {
    } else if (a == "--id") {
      o.id = args.value(a);
    } else if (a == "--type") {
      o.type = static_cast<uint32_t>(parse_int(a, args.value(a), 0, UINT32_MAX));
    } else if (a == "--expiry") {
      o.expiry = static_cast<uint32_t>(parse_int(a, args.value(a), 0, UINT32_MAX));
    } else if (a == "--priority") {
      o.priority = static_cast<uint32_t>(parse_int(a, args.value(a), 0, 15));
    } else if (a == "--transient") {
      o.transient = true;
    } else if (a == "--edit") {
      o.edit = args.value(a);
    } else if (a == "--recall") {
      o.recall = args.value(a);
    } else if (a == "--timeout") {
      o.timeout_s = parse_seconds(a, args.value(a));
    } else {
      return false;
    }
    return true;
  });
  check_target(o.to);
  if (!o.edit.empty() && !o.recall.empty()) throw UsageError("give --edit or --recall, not both");
  if (!o.recall.empty()) {
    if (!words.empty()) throw UsageError("--recall takes no TEXT");
    return o;
  }
  if (words.empty()) throw UsageError("TEXT is required");
  for (const auto& w : words) o.text += (o.text.empty() ? "" : " ") + w;
  return o;
}

int send_main(Args& args) { return run_send(parse_send(args)); }

}  // namespace

const Command kSendCommand{
    "send",
    "send one message and wait for the server's acknowledgement",
    kSendUsage,
    /*connects=*/true,
    &send_main,
};

}  // namespace courier::cli
