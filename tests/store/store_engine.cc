#include "store_engine.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "lmdb_store.h"
#include "pg_store.h"
#include "proc/pg_client.h"
#include "proc/postgres.h"
#include "proc/shared_postgres.h"
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

class PgSite final : public StoreSite {
 public:
  explicit PgSite(const std::string& test_name) {
    static int serial = 0;
    server_ = proc::SharedPostgres(&error_);
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

std::string SharedPgServer(std::string* error) { return proc::SharedPostgres(error); }

StoreEngine LmdbEngine() {
  return {"lmdb", [](const std::string&) -> std::unique_ptr<StoreSite> { return std::make_unique<LmdbSite>(); }};
}

StoreEngine PostgresEngine() {
  return {"postgres",
          [](const std::string& test) -> std::unique_ptr<StoreSite> { return std::make_unique<PgSite>(test); }};
}

}  // namespace courier::storage::testing
