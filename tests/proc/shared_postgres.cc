#include "proc/shared_postgres.h"

#include <cstdlib>
#include <memory>

#include "proc/postgres.h"

namespace courier::proc {

std::string SharedPostgres(std::string* error) {
  // Destroyed at exit: the server is stopped by its pid and its directory goes.
  static std::unique_ptr<Postgres> server;
  static std::string conninfo, failure;
  if (!conninfo.empty() || !failure.empty()) {
    *error = failure;
    return conninfo;
  }
  if (const char* external = std::getenv("COURIER_IT_PG"); external != nullptr && *external != '\0') {
    conninfo = external;
    return conninfo;
  }
  PostgresOptions o;
  o.keep_dir = KeepRequested("COURIER_IT_KEEP");
  server = std::make_unique<Postgres>(o);
  const Launch launch = server->Start();
  if (!launch.accepting()) {
    failure = "PostgreSQL did not start: " + launch.error + "\n" + server->ReadLog();
    *error = failure;
    return conninfo;
  }
  conninfo = server->ServerConninfo();
  return conninfo;
}

}  // namespace courier::proc
