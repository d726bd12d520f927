// OpenStore: the one place that picks and opens the storage engine the
// options name (plugin_opt_store).
//
// Thread: the broker thread, at plugin load. Failure: returns one line for
// the broker's log (never containing a password) when the plugin must refuse
// to load: an LMDB directory that cannot be opened, a malformed
// pg_conninfo, a PostgreSQL schema of an unknown version. An unreachable
// PostgreSQL is not a failure: the store reconnects later.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "deferred_log.h"
#include "edge_delivery.h"
#include "plugin_options.h"
#include "store.h"

namespace courier::plugin {

struct OpenedStore {
  std::unique_ptr<storage::Store> store;
  std::string description;  // for the load line: "lmdb /var/lib/courier sync full"
};

// `log` receives the engine's later lines (from its worker thread); it must
// outlive the store.
std::variant<OpenedStore, std::string> OpenStore(const PluginOptions& options, DeferredLog* log);

// For a store shared by several edges (postgres): how to make the hint bus
// of cross-edge delivery (EdgeDelivery, a PgHintBus on its own connection
// to the same database). nullopt for a store of one broker (lmdb): no
// cross-edge delivery at all.
std::optional<EdgeDelivery::MakeBus> HintBusOf(const PluginOptions& options);

}  // namespace courier::plugin
