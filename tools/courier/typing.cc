// `courier typing`: publish an activity signal, then wait for the server's
// verdict (verdict.h) before deciding the exit code.
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "args.h"
#include "commands.h"
#include "print.h"
#include "session.h"
#include "verdict.h"

namespace courier::cli {

int run_typing(const TypingOptions& o) {
  const auto deadline = Clock::now() + to_ms(o.timeout_s);
  PublishOnly p(o.common.client);
  client::Client& c = p.client;
  bool sent = false;
  if (wait_online(p.watch, p.waiter, deadline)) {
    auto f = o.to.group.empty() ? c.setActivity(o.to.user, o.status) : c.setGroupActivity(o.to.group, o.status);
    sent = ready_by(f, deadline) && f.get();
  }
  const int rc = finish(c, p.watch, p.errors, sent, deadline);
  if (rc >= 0) return rc;
  if (o.to.group.empty()) {
    emit(fmt::format("activity to={} status={}", token(o.to.user), status_name(o.status)));
  } else {
    emit(fmt::format("activity group={} status={}", token(o.to.group), status_name(o.status)));
  }
  return kExitOk;
}

// The `typing` command: its help, its arguments, its entry in main.cc's table.
namespace {

constexpr std::string_view kTypingUsage = R"(usage: courier typing [options] (--to USER | --group GROUP)

Sends an activity signal (not stored). Prints `activity to=USER status=S`.

Typing options:
      --to USER         the user to tell
      --group GROUP     the group to tell (instead of --to)
      --status S        TYPING (default), PAUSED, RECORDING, PLAYED, CHATTING,
                        CANCELLED, RESUME, NOTIFICATION, or 1..8
      --timeout S       give up after S seconds (default 10)
)";

TypingOptions parse_typing(Args& args) {
  TypingOptions o;
  parse_options(kTypingCommand, args, &o.common, [&](std::string_view a, bool positional) {
    if (positional) return false;
    if (parse_target(a, args, o.to)) {
    } else if (a == "--status") {
      const std::string s = args.value(a);
      auto st = parse_status(s);
      if (!st) throw UsageError(fmt::format("--status: unknown status '{}'", s));
      o.status = *st;
    } else if (a == "--timeout") {
      o.timeout_s = parse_seconds(a, args.value(a));
    } else {
      return false;
    }
    return true;
  });
  check_target(o.to);
  return o;
}

int typing_main(Args& args) { return run_typing(parse_typing(args)); }

}  // namespace

const Command kTypingCommand{
    "typing",          "tell a user or group that you are typing (or another activity)",
    kTypingUsage,
    /*connects=*/true, &typing_main,
};

}  // namespace courier::cli
