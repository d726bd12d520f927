// proc::Postgres itself (tests/proc/postgres.h), as the store suite and the
// failover tests use it: a server that starts, takes setup SQL, restarts on
// its data, feeds a streaming standby that can be promoted, and ends by its
// pid. Runs in the ctest test courier_store_tests_postgres (label postgres).
#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

#include "proc/postgres.h"

namespace courier::proc {
namespace {

bool ProcessExists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }

// Polls `sql` on `server` until it returns `want` (10 s at most).
::testing::AssertionResult Eventually(Postgres& server, const std::string& sql, const std::string& want) {
  std::string value, error;
  for (int i = 0; i < 200; ++i) {
    if (server.Exec(sql, &error, "postgres", &value) && value == want) return ::testing::AssertionSuccess();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return ::testing::AssertionFailure() << sql << ": got '" << value << "' (" << error << "), want '" << want << "'";
}

TEST(PostgresHarness, StartsTakesSqlRestartsAndEndsByPid) {
  Postgres server;
  server.options().settings.push_back("application_name = 'courier_harness'");
  Launch launch = server.Start();
  ASSERT_TRUE(launch.accepting()) << launch.error << "\n" << server.ReadLog();
  std::string error, value;
  ASSERT_TRUE(server.CreateDatabase("harness", &error)) << error;
  ASSERT_TRUE(server.Exec("CREATE TABLE t (v int); INSERT INTO t VALUES (7)", &error, "harness")) << error;
  ASSERT_TRUE(server.Exec("SHOW application_name", &error, "harness", &value)) << error;
  EXPECT_EQ(value, "courier_harness") << "the settings lines are in effect";
  EXPECT_FALSE(server.Exec("SELECT * FROM no_such_table", &error, "harness"));
  EXPECT_NE(error.find("no_such_table"), std::string::npos) << error;

  const pid_t first = server.pid();
  server.Stop(std::chrono::seconds(10));
  EXPECT_FALSE(server.running());
  EXPECT_FALSE(ProcessExists(first));
  launch = server.Restart();
  ASSERT_TRUE(launch.accepting()) << launch.error << "\n" << server.ReadLog();
  ASSERT_TRUE(server.Exec("SELECT v FROM t", &error, "harness", &value)) << error;
  EXPECT_EQ(value, "7") << "the data survived the restart";

  const pid_t second = server.pid();
  server.Kill();
  EXPECT_FALSE(ProcessExists(second));
}

TEST(PostgresHarness, StandbyFollowsThePrimaryAndCanBePromoted) {
  Postgres primary;
  Launch launch = primary.Start();
  ASSERT_TRUE(launch.accepting()) << launch.error << "\n" << primary.ReadLog();
  std::string error;
  ASSERT_TRUE(primary.Exec("CREATE TABLE t (v int); INSERT INTO t VALUES (1)", &error)) << error;

  Postgres standby;
  ASSERT_TRUE(standby.MakeStandby(primary, &error)) << error;
  launch = standby.Start();
  ASSERT_TRUE(launch.accepting()) << launch.error << "\n" << standby.ReadLog();
  EXPECT_TRUE(Eventually(standby, "SELECT pg_is_in_recovery()", "t"));
  ASSERT_TRUE(primary.Exec("INSERT INTO t VALUES (2)", &error)) << error;
  EXPECT_TRUE(Eventually(standby, "SELECT sum(v) FROM t", "3")) << "the standby streams from the primary";

  primary.Kill();
  ASSERT_TRUE(standby.Promote(&error)) << error << "\n" << standby.ReadLog();
  EXPECT_TRUE(Eventually(standby, "SELECT pg_is_in_recovery()", "f"));
  EXPECT_TRUE(standby.Exec("INSERT INTO t VALUES (4)", &error)) << error;
}

}  // namespace
}  // namespace courier::proc
