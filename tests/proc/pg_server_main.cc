// courier_pg_server: one PostgreSQL server (proc::Postgres) for a whole test
// run, e.g. the `postgres` stage of scripts/test.sh. Starts the server,
// prints its conninfo without dbname ("host=127.0.0.1 port=N user=postgres")
// as the first line on stdout, then runs until SIGTERM or SIGINT (or, with
// --stdin, until stdin reaches EOF), and stops the server by its pid (fast
// shutdown) before it exits; its directory goes with it (COURIER_PG_KEEP=1
// keeps it). Extra arguments are postgresql.conf lines ("name = value").
// Exit status: 0 after a clean run, 1 when the server did not start (its log
// is on stderr).
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "proc/postgres.h"

namespace {

volatile sig_atomic_t g_stop = 0;

void OnSignal(int) { g_stop = 1; }

// Until a stop signal arrives, or EOF on stdin when `watch_stdin`.
void WaitForTheEnd(bool watch_stdin) {
  if (watch_stdin) {
    char buf[256];
    while (g_stop == 0 && ::read(STDIN_FILENO, buf, sizeof buf) > 0) {}
    return;
  }
  while (g_stop == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
}

}  // namespace

int main(int argc, char** argv) {
  courier::proc::PostgresOptions options;
  options.keep_dir = courier::proc::KeepRequested("COURIER_PG_KEEP");
  options.dir_prefix = "courier-pg-server-";
  bool watch_stdin = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--stdin") {
      watch_stdin = true;
    } else {
      options.settings.push_back(arg);
    }
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;  // no SA_RESTART: a blocked read returns
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);

  courier::proc::Postgres server(options);
  const auto started = std::chrono::steady_clock::now();
  const courier::proc::Launch launch = server.Start();
  if (!launch.accepting()) {
    std::fprintf(stderr, "courier_pg_server: PostgreSQL did not start: %s\n%s\n", launch.error.c_str(),
                 server.ReadLog().c_str());
    return 1;
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  std::printf("%s\n", server.ServerConninfo().c_str());
  std::fflush(stdout);
  std::fprintf(stderr, "courier_pg_server: PostgreSQL pid %d on port %d, ready after %lld ms (initdb included)\n",
               static_cast<int>(server.pid()), server.port(), static_cast<long long>(ms.count()));
  WaitForTheEnd(watch_stdin);
  server.Stop(std::chrono::seconds(10));
  std::fprintf(stderr, "courier_pg_server: stopped\n");
  return 0;
}
