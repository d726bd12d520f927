// The `inspect` command's help and arguments. The store reading itself is
// in inspect.cc (run_inspect); this file only registers it in main.cc's table.
#include <string>
#include <string_view>

#include "args.h"
#include "commands.h"

namespace courier::cli {

// The `inspect` command: its help, its arguments, its entry in main.cc's table.
namespace {

constexpr std::string_view kInspectUsage = R"(usage: courier inspect [options] DIR
       courier inspect [options] --pg CONNINFO

Prints the contents of the Courier store in DIR (plugin_opt_db_path), or of
the PostgreSQL store CONNINFO (plugin_opt_pg_conninfo), without changing it;
safe while the broker runs. One record per line:
  store path=DIR schema=2
  table name=NAME entries=N
  head user=U offset=N
  cursor user=U device=D offset=N
  conv key=K offset=N
  dedup sender=U id=ID offset=N
  entry user=U offset=N user_offset=M from=.. to=.. kind=.. id=.. [..] peer=U/N "PAYLOAD"

Inspect options:
      --pg CONNINFO     read a PostgreSQL store instead of DIR
      --user U          only the rows of user U
      --no-entries      skip the log entries
      --limit N         at most the N newest entries per user
)";

InspectOptions parse_inspect(Args& args) {
  InspectOptions o;
  parse_options(kInspectCommand, args, nullptr, [&](std::string_view a, bool positional) {
    if (positional) {
      if (!o.path.empty()) throw UsageError("only one DIR");
      o.path = std::string(a);
    } else if (a == "--pg") {
      o.pg = args.value(a);
    } else if (a == "--user") {
      o.user = args.value(a);
    } else if (a == "--no-entries") {
      o.entries = false;
    } else if (a == "--limit") {
      o.limit = parse_int(a, args.value(a), 0, INT64_MAX);
    } else {
      return false;
    }
    return true;
  });
  if (o.path.empty() == o.pg.empty()) throw UsageError("one of DIR or --pg CONNINFO is required");
  return o;
}

int inspect_main(Args& args) { return run_inspect(parse_inspect(args)); }

}  // namespace

const Command kInspectCommand{
    "inspect",          "read-only dump of a store, LMDB or PostgreSQL (users, heads, cursors, entries)",
    kInspectUsage,
    /*connects=*/false, &inspect_main,
};

}  // namespace courier::cli
