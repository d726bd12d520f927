#include "store_opener.h"

extern "C" {
#include <mosquitto.h>
#include <mosquitto_broker.h>
}

#include "lmdb_store.h"
#include "pg_hint_bus.h"
#include "pg_store.h"

namespace courier::plugin {
namespace {

const char* SyncName(storage::SyncMode mode) {
  switch (mode) {
    case storage::SyncMode::kFull: return "full";
    case storage::SyncMode::kNoMeta: return "nometa";
    case storage::SyncMode::kOs: return "os";
  }
  return "?";
}

std::variant<OpenedStore, std::string> OpenLmdb(const PluginOptions& options) {
  std::unique_ptr<storage::LmdbStore> store;
  storage::Status status = storage::LmdbStore::Open(options.store, &store);
  if (!status.ok()) return status.ToString();
  return OpenedStore{std::move(store), "lmdb " + options.store.path + " sync " + SyncName(options.store.sync)};
}

std::variant<OpenedStore, std::string> OpenPostgres(const PluginOptions& options, DeferredLog* log) {
  std::unique_ptr<storage::PgStore> store;
  storage::PgLog pg_log = [log](const std::string& line) { log->Add(MOSQ_LOG_WARNING, "store: " + line); };
  storage::Status status = storage::PgStore::Open(options.pg, std::move(pg_log), &store);
  if (!status.ok()) return status.ToString();
  return OpenedStore{std::move(store), "postgres " + storage::PgStore::Describe(options.pg.conninfo)};
}

}  // namespace

std::variant<OpenedStore, std::string> OpenStore(const PluginOptions& options, DeferredLog* log) {
  if (options.engine == StoreEngine::kPostgres) return OpenPostgres(options, log);
  return OpenLmdb(options);
}

std::optional<EdgeDelivery::MakeBus> HintBusOf(const PluginOptions& options) {
  if (options.engine != StoreEngine::kPostgres) return std::nullopt;
  storage::PgHintBusOptions o;
  o.conninfo = options.pg.conninfo;
  o.connect_timeout_s = options.pg.connect_timeout_s;
  o.reconnect_max_ms = options.pg.reconnect_max_ms;
  return [o](storage::HintBus::Deliver deliver, storage::HintBus::Log log) -> std::unique_ptr<storage::HintBus> {
    return std::make_unique<storage::PgHintBus>(o, std::move(deliver), std::move(log));
  };
}

}  // namespace courier::plugin
