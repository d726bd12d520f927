// The storage engines the store suite runs on: the parameter of every
// TEST_P in tests/store. A StoreEngine makes a StoreSite, the place one
// test's store lives (an LMDB directory, a PostgreSQL database), which can
// open the store there any number of times (a reopen is a close and an open).
//
// LMDB: a fresh temporary directory per test. PostgreSQL: a fresh database
// per test on one server per test process: the server named by the
// environment variable COURIER_IT_PG (a conninfo without dbname), else one
// proc::Postgres started at the first use and stopped when the tests end.
//
// Ownership: a StoreSite owns its directory or database (removed, dropped,
// when it goes); the stores it opens belong to the caller and must be gone
// before the site. Threads: the test's main thread only. Failures: Open()
// returns the engine's Status; a site that could not be made reports it as
// a gtest failure and every Open() fails.
#pragma once

#include <memory>
#include <ostream>
#include <string>

#include "status.h"
#include "store.h"

namespace courier::storage::testing {

class StoreSite {
 public:
  virtual ~StoreSite() = default;
  // Opens (the first time: creates) the store of this site.
  virtual Status Open(std::unique_ptr<Store>* out) = 0;
};

struct StoreEngine {
  std::string name;  // "lmdb", "postgres"
  std::unique_ptr<StoreSite> (*make)(const std::string& test_name) = nullptr;
};

// gtest prints the parameter by its name.
inline void PrintTo(const StoreEngine& engine, std::ostream* os) { *os << engine.name; }

StoreEngine LmdbEngine();
StoreEngine PostgresEngine();

// The conninfo (without dbname) of this process's PostgreSQL server, the one
// PostgresEngine() uses; empty with *error set when there is none.
std::string SharedPgServer(std::string* error);

}  // namespace courier::storage::testing

// Instantiates the TEST_Ps of `suite` once per engine: test names start with
// Lmdb/ or Postgres/ (ctest runs Postgres/* as one test, label postgres).
#define COURIER_STORE_ENGINES(suite)                                                                          \
  INSTANTIATE_TEST_SUITE_P(Lmdb, suite, ::testing::Values(::courier::storage::testing::LmdbEngine()),         \
                           [](const auto& info) { return info.param.name; });                                 \
  INSTANTIATE_TEST_SUITE_P(Postgres, suite, ::testing::Values(::courier::storage::testing::PostgresEngine()), \
                           [](const auto& info) { return info.param.name; })
