// `courier migrate --from DIR --to CONNINFO`: copies an LMDB store (the
// broker stopped, or not: the Reader reads one snapshot) into an empty
// PostgreSQL database, for moving up from one broker to several edges
// (docs/migrate.md). Reads through the LMDB Reader and writes with
// storage/postgres/pg_import.h in one transaction: on any failure nothing
// is written. Prints what it copied; never the password (PgStore::Describe).
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "args.h"
#include "commands.h"
#include "lmdb_reader.h"
#include "pg_import.h"
#include "pg_store.h"
#include "print.h"

namespace courier::cli {
namespace {

struct MigrateOptions {
  std::string from;  // the LMDB store directory (plugin_opt_db_path)
  std::string to;    // libpq conninfo of the target database
};

constexpr std::string_view kMigrateUsage = R"(usage: courier migrate --from DIR --to CONNINFO

Copies the Courier LMDB store in DIR into the PostgreSQL database CONNINFO
(a libpq connection string, as plugin_opt_pg_conninfo), which must hold no
Courier rows; creates the schema when absent. Everything is copied in one
transaction: offsets, heads, conversation counters, receipts, edits and
recalls, expiry, dedup ids, cursors, groups, push registrations and due
pushes. Stop the broker first: what it writes after the snapshot is not
copied. Prints one line:
  migrated from=DIR to=WHERE users=N entries=N bodies=N conversations=N cursors=N dedup=N groups=N push_regs=N due_pushes=N body_sequence=N seconds=S

Exit codes: 0 copied; 1 usage or malformed CONNINFO; 2 database unreachable;
3 target not empty; 6 store unreadable (or a record that does not decode).

Migrate options:
      --from DIR        the LMDB store directory
      --to CONNINFO     the target database
)";

MigrateOptions parse_migrate(Args& args);

int fail(int code, const std::string& line) {
  emit_err("error: " + line);
  return code;
}

int run_migrate(const MigrateOptions& o) {
  const std::string where = storage::PgStore::Describe(o.to);
  std::unique_ptr<storage::Reader> reader;
  if (auto s = storage::OpenLmdbReader(o.from, &reader); !s.ok()) {
    return fail(kExitStore, fmt::format("cannot read store {}: {}", o.from, s.message()));
  }
  const auto start = std::chrono::steady_clock::now();
  storage::ImportCounts n;
  const storage::Status s = storage::ImportIntoPg(*reader, o.to, &n);
  using Code = storage::Status::Code;
  switch (s.code()) {
    case Code::kOk: break;
    case Code::kIoError: return fail(kExitConnection, fmt::format("postgres {}: {}", where, s.message()));
    case Code::kInvalid:
      return fail(s.message().rfind("malformed", 0) == 0 ? kExitUsage : kExitRejected,
                  fmt::format("postgres {}: {}", where, s.message()));
    default: return fail(kExitStore, fmt::format("store {}: {}; nothing was written", o.from, s.message()));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  emit(
      fmt::format("migrated from={} to={} users={} entries={} bodies={} conversations={} cursors={} dedup={} groups={} "
                  "push_regs={} due_pushes={} body_sequence={} seconds={:.2f}",
                  token(o.from), token(where), n.users, n.entries, n.bodies, n.conversations, n.cursors, n.dedup,
                  n.groups, n.push_regs, n.due_pushes, n.body_sequence, seconds));
  return kExitOk;
}

MigrateOptions parse_migrate(Args& args) {
  MigrateOptions o;
  parse_options(kMigrateCommand, args, nullptr, [&](std::string_view a, bool positional) {
    if (positional) return false;
    if (a == "--from") {
      o.from = args.value(a);
    } else if (a == "--to") {
      o.to = args.value(a);
    } else {
      return false;
    }
    return true;
  });
  if (o.from.empty()) throw UsageError("--from DIR is required");
  if (o.to.empty()) throw UsageError("--to CONNINFO is required");
  return o;
}

int migrate_main(Args& args) { return run_migrate(parse_migrate(args)); }

}  // namespace

const Command kMigrateCommand{
    "migrate",          "copy an LMDB store into an empty PostgreSQL database",
    kMigrateUsage,
    /*connects=*/false, &migrate_main,
};

}  // namespace courier::cli
