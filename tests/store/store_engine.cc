#include "store_engine.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "lmdb_store.h"
#include "pg_store.h"
#include "proc/pg_client.h"
#include "proc/postgres.h"
#include "proc/temp_dir.h"

namespace courier::storage::testing {
namespace {

class LmdbSite final : public StoreSite {
 public:
  LmdbSite() : dir_("courier-store-") {
    if (!dir_.ok()) ADD_FAILURE() << dir_.error();
  }
  Status Open(std::unique_ptr<Store>* out) override {
    LmdbOptions o;
    o.path = dir_.Sub("db");
    o.map_size_mb = 16;
    o.max_map_size_mb = 64;
    o.sync = SyncMode::kOs;  // speed; durability across processes is the integration tests' job
    std::unique_ptr<LmdbStore> store;
    Status s = LmdbStore::Open(o, &store);
    *out = std::move(store);
    return s;
  }

 private:
  proc::TempDir dir_;
};

// The server of this test process: COURIER_IT_PG, or one started here at the
// first use. Stopped by the environment's TearDown after the last test.
class PgServer : public ::testing::Environment {
 public:
  static PgServer* Get() {
    static PgServer* server = static_cast<PgServer*>(::testing::AddGlobalTestEnvironment(new PgServer));
    return server;
  }
  // The conninfo without dbname; empty (and *error says why) when there is no server.
  const std::string& Conninfo(std::string* error) {
    if (!conninfo_.empty() || !error_.empty()) {
      *error = error_;
      return conninfo_;
    }
    const char* external = std::getenv("COURIER_IT_PG");
    if (external != nullptr && *external != '\0') {
      conninfo_ = external;
      return conninfo_;
    }
    proc::PostgresOptions o;
    o.keep_dir = proc::KeepRequested("COURIER_IT_KEEP");
    server_ = std::make_unique<proc::Postgres>(o);
    const proc::Launch launch = server_->Start();
    if (!launch.accepting()) {
      error_ = "PostgreSQL did not start: " + launch.error + "\n" + server_->ReadLog();
      *error = error_;
      return conninfo_;
    }
    conninfo_ = server_->ServerConninfo();
    return conninfo_;
  }
  void TearDown() override { server_.reset(); }

 private:
  std::unique_ptr<proc::Postgres> server_;
  std::string conninfo_;
  std::string error_;
};

class PgSite final : public StoreSite {
 public:
  explicit PgSite(const std::string& test_name) {
    static int serial = 0;
    server_ = PgServer::Get()->Conninfo(&error_);
    if (!error_.empty()) {
      ADD_FAILURE() << error_;
      return;
    }
    database_ = proc::PgDatabaseName("courier_" + test_name + "_" + std::to_string(++serial));
    if (!proc::PgCreateDatabase(server_, database_, &error_)) ADD_FAILURE() << error_;
  }
  ~PgSite() override {
    std::string error;
    if (error_.empty() && !proc::PgDropDatabase(server_, database_, &error)) ADD_FAILURE() << error;
  }
  Status Open(std::unique_ptr<Store>* out) override {
    if (!error_.empty()) return Status::Invalid("no database: " + error_);
    PgOptions o;
    o.conninfo = proc::PgWithDatabase(server_, database_);
    std::unique_ptr<PgStore> store;
    Status s = PgStore::Open(o, {}, &store);
    *out = std::move(store);
    return s;
  }

 private:
  std::string server_, database_, error_;
};

}  // namespace

std::string SharedPgServer(std::string* error) { return PgServer::Get()->Conninfo(error); }

StoreEngine LmdbEngine() {
  return {"lmdb", [](const std::string&) -> std::unique_ptr<StoreSite> { return std::make_unique<LmdbSite>(); }};
}

StoreEngine PostgresEngine() {
  return {"postgres",
          [](const std::string& test) -> std::unique_ptr<StoreSite> { return std::make_unique<PgSite>(test); }};
}

}  // namespace courier::storage::testing
