// `courier read`: publish receipts, then wait for the server's verdict
// (verdict.h) before deciding the exit code.
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

int run_read(const ReadOptions& o) {
  const auto deadline = Clock::now() + to_ms(o.timeout_s);
  PublishOnly p(o.common.client);
  client::Client& c = p.client;
  // Receipts wait for the connection by themselves; the futures tell when
  // the broker has them.
  std::vector<std::future<bool>> acks;
  for (int32_t offset : o.offsets) acks.push_back(o.read ? c.markRead(offset) : c.markReceived(offset));
  bool all = true;
  for (auto& f : acks) all = ready_by(f, deadline) && f.get() && all;
  const int rc = finish(c, p.watch, p.errors, all, deadline);
  if (rc >= 0) return rc;
  for (int32_t offset : o.offsets) {
    emit(fmt::format("marked offset={} state={}", offset, o.read ? "read" : "delivered"));
  }
  return kExitOk;
}

// The `read` command: its help, its arguments, its entry in main.cc's table.
namespace {

constexpr std::string_view kReadUsage = R"(usage: courier read [options] OFFSET...

Marks the entries at OFFSET (positions in your own log) read, so their
senders see the read tick. Prints `marked offset=N state=read` for each.

Read options:
      --received        mark them received (delivered) only
      --timeout S       give up after S seconds (default 10)
)";

ReadOptions parse_read(Args& args) {
  ReadOptions o;
  parse_options(kReadCommand, args, &o.common, [&](std::string_view a, bool positional) {
    if (positional) {
      o.offsets.push_back(static_cast<int32_t>(parse_int("OFFSET", std::string(a), 1, INT32_MAX)));
    } else if (a == "--received") {
      o.read = false;
    } else if (a == "--timeout") {
      o.timeout_s = parse_seconds(a, args.value(a));
    } else {
      return false;
    }
    return true;
  });
  if (o.offsets.empty()) throw UsageError("OFFSET is required");
  return o;
}

int read_main(Args& args) { return run_read(parse_read(args)); }

}  // namespace

const Command kReadCommand{
    "read",
    "mark entries of your log read (or received)",
    kReadUsage,
    /*connects=*/true,
    &read_main,
};

}  // namespace courier::cli
