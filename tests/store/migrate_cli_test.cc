// `courier migrate` and `courier inspect --pg` end to end: the binary is
// run on a store filled through LmdbStore; exit codes and output lines.
// On the suite's server (label postgres).
#include <sys/wait.h>

#include <fstream>
#include <iterator>

#include "pg_migrate_fixture.h"

namespace courier::storage::migrate_test {
namespace {

struct Ran {
  int code = -1;
  std::string out, err;
};

std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// Runs the CLI with `args` (shell words, already quoted).
Ran Cli(const std::string& args) {
  const std::string out = "/tmp/courier-migrate-cli-" + std::to_string(getpid());
  const int status =
      std::system((std::string(COURIER_CLI) + " " + args + " >" + out + ".out 2>" + out + ".err").c_str());
  Ran r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, Slurp(out + ".out"), Slurp(out + ".err")};
  std::filesystem::remove(out + ".out");
  std::filesystem::remove(out + ".err");
  return r;
}

TEST(MigrateCliTest, CopiesOnceThenRefusesANonEmptyTarget) {
  TempDir dir;
  FillSource(*OpenLmdb(dir.store()));
  FreshDb db;
  // trust authentication ignores the password; it must not be printed.
  const std::string to = "'" + db.conninfo() + " password=hunter2'";
  Ran r = Cli("migrate --from " + dir.store() + " --to " + to);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("migrated from=", 0), 0u) << r.out;
  for (const char* part : {" users=5 ", " groups=1 ", " push_regs=2 ", " due_pushes=1 ", " dbname="}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << part << " in " << r.out;
  }
  EXPECT_EQ(r.out.find("hunter2"), std::string::npos);

  Ran again = Cli("migrate --from " + dir.store() + " --to " + to);
  EXPECT_EQ(again.code, 3);
  EXPECT_EQ(again.out, "");
  EXPECT_NE(again.err.find("not empty"), std::string::npos) << again.err;
  EXPECT_EQ(std::count(again.err.begin(), again.err.end(), '\n'), 1) << again.err;
  EXPECT_EQ(again.err.find("hunter2"), std::string::npos);

  Ran inspect = Cli("inspect --pg " + to + " --user dan");
  EXPECT_EQ(inspect.code, 0) << inspect.err;
  EXPECT_NE(inspect.out.find("head user=dan offset=2"), std::string::npos) << inspect.out;
  EXPECT_EQ(inspect.out.find("hunter2"), std::string::npos);
}

TEST(MigrateCliTest, FailuresEndWithOneLineAndTheirExitCode) {
  TempDir dir;
  FillSource(*OpenLmdb(dir.store()));
  FreshDb db;
  Ran unreachable = Cli("migrate --from " + dir.store() + " --to 'host=127.0.0.1 port=1 connect_timeout=2'");
  EXPECT_EQ(unreachable.code, 2);
  EXPECT_EQ(std::count(unreachable.err.begin(), unreachable.err.end(), '\n'), 1) << unreachable.err;
  Ran no_store = Cli("migrate --from /nonexistent/courier --to '" + db.conninfo() + "'");
  EXPECT_EQ(no_store.code, 6);
  EXPECT_NE(no_store.err.find("cannot read store"), std::string::npos) << no_store.err;
  EXPECT_EQ(Cli("migrate --from " + dir.store()).code, 1);
  EXPECT_EQ(Cli("migrate --from " + dir.store() + " --to 'host=x port=1 bogus'").code, 1);
  EXPECT_EQ(Cli("inspect --pg 'host=127.0.0.1 port=1 connect_timeout=2'").code, 6);
}

}  // namespace
}  // namespace courier::storage::migrate_test
