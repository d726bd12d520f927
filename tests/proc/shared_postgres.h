// SharedPostgres: the PostgreSQL server every test of one process uses.
// COURIER_IT_PG (a conninfo without dbname, as scripts/test.sh's postgres
// stage exports it) when set; else one proc::Postgres started at the first
// call and ended by its pid when the process exits. Tests make a database
// each on it, so they never need a server of their own, and never skip.
//
// Thread: call from the test's main thread. Failure: returns "" with
// *error set (the server's log included) when no server could be started;
// later calls give the same answer.
#pragma once

#include <string>

namespace courier::proc {

std::string SharedPostgres(std::string* error);

}  // namespace courier::proc
