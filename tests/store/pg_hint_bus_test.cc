// storage/postgres/pg_hint_bus.h against a real PostgreSQL, the process's
// shared server (proc/shared_postgres.h), and against an unreachable one.
// In courier_store_tests_postgres (label postgres).
#include "pg_hint_bus.h"

#include "proc/shared_postgres.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace courier::storage {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// The process's server (proc::SharedPostgres), its postgres database.
std::string Conninfo() {
  std::string error;
  const std::string server = proc::SharedPostgres(&error);
  EXPECT_EQ(error, "");
  return server.empty() ? "" : server + " dbname=postgres";
}

// What one bus received and logged.
struct Inbox {
  void Add(std::vector<std::string> n) {
    std::lock_guard lock(mu);
    for (auto& x : n) got.push_back(std::move(x));
    cv.notify_all();
  }
  bool WaitFor(size_t count, milliseconds timeout = milliseconds(5000)) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, timeout, [&] { return got.size() >= count; });
  }
  std::vector<std::string> Got() {
    std::lock_guard lock(mu);
    return got;
  }
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> got;
  std::vector<std::string> log;
};

std::unique_ptr<PgHintBus> Bus(Inbox* in, std::string conninfo = Conninfo(), std::string channel = "courier_test") {
  PgHintBusOptions o;
  o.conninfo = std::move(conninfo);
  o.channel = std::move(channel);
  o.reconnect_min_ms = 20;
  o.reconnect_max_ms = 200;
  o.connect_timeout_s = 2;
  return std::make_unique<PgHintBus>(
      o, [in](std::vector<std::string> n) { in->Add(std::move(n)); },
      [in](const std::string& line) {
        std::lock_guard lock(in->mu);
        in->log.push_back(line);
      });
}

bool WaitListening(const PgHintBus& bus, milliseconds timeout = milliseconds(5000)) {
  const auto end = steady_clock::now() + timeout;
  while (steady_clock::now() < end) {
    if (bus.listening()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return false;
}

class PgHintBusTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(Conninfo(), "") << "no PostgreSQL server"; }
};

TEST_F(PgHintBusTest, OthersGetWhatOneSendsInOrderNotItself) {
  Inbox a_in, b_in;
  auto a = Bus(&a_in);
  auto b = Bus(&b_in);
  ASSERT_TRUE(WaitListening(*a));
  ASSERT_TRUE(WaitListening(*b));
  std::vector<std::string> sent;
  for (int i = 0; i < 1000; ++i) sent.push_back("n" + std::to_string(i) + " \"quoted\\\" {a,b}");
  a->Send(sent);
  ASSERT_TRUE(b_in.WaitFor(sent.size()));
  EXPECT_EQ(b_in.Got(), sent);
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_TRUE(a_in.Got().empty());
  EXPECT_EQ(a->dropped(), 0u);
}

TEST_F(PgHintBusTest, ReconnectsAfterItsConnectionIsKilled) {
  Inbox a_in, b_in;
  auto a = Bus(&a_in);
  auto b = Bus(&b_in);
  ASSERT_TRUE(WaitListening(*a));
  ASSERT_TRUE(WaitListening(*b));
  PGconn* admin = PQconnectdb(Conninfo().c_str());
  ASSERT_EQ(PQstatus(admin), CONNECTION_OK);
  PGresult* r = PQexec(admin,
                       "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE query LIKE 'LISTEN \"courier_test\"%' OR query LIKE 'SELECT pg_notify%'");
  EXPECT_EQ(PQresultStatus(r), PGRES_TUPLES_OK);
  PQclear(r);
  PQfinish(admin);
  // Both notice on their next read; then they listen again.
  a->Send({"after"});
  const auto end = steady_clock::now() + milliseconds(5000);
  while (steady_clock::now() < end && b_in.Got().empty()) {
    std::this_thread::sleep_for(milliseconds(50));
    if (WaitListening(*a, milliseconds(10)) && WaitListening(*b, milliseconds(10)) && b_in.Got().empty()) {
      a->Send({"after"});
    }
  }
  ASSERT_FALSE(b_in.Got().empty());
  EXPECT_EQ(b_in.Got().front(), "after");
  std::lock_guard lock(b_in.mu);
  ASSERT_EQ(b_in.log.size(), 2u);  // lost, then listening again
  EXPECT_NE(b_in.log[1].find("listening again"), std::string::npos) << b_in.log[1];
}

TEST(PgHintBusDown, UnreachableServerNeverBlocksSendOrShutdown) {
  Inbox in;
  const auto start = steady_clock::now();
  {
    auto bus = Bus(&in, "host=127.0.0.1 port=1 user=nobody dbname=none");
    for (int i = 0; i < 20000; ++i) bus->Send({"x"});
    EXPECT_LT(steady_clock::now() - start, milliseconds(1000));
    std::this_thread::sleep_for(milliseconds(100));
    EXPECT_FALSE(bus->listening());
    EXPECT_GE(bus->dropped(), 10000u);  // beyond max_queued
  }
  EXPECT_LT(steady_clock::now() - start, milliseconds(3000));
  std::lock_guard lock(in.mu);
  ASSERT_FALSE(in.log.empty());
  EXPECT_NE(in.log[0].find("hint bus:"), std::string::npos) << in.log[0];
}

}  // namespace
}  // namespace courier::storage
