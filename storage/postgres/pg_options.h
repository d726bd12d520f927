// How the PostgreSQL engine is opened: the configuration the plugin parses
// (plugin/plugin_options.h) and PgStore::Open takes. Plain values.
#pragma once

#include <cstdint>
#include <string>

namespace courier::storage {

struct PgOptions {
  // A libpq connection string, key=value or URI form. Several hosts with
  // target_session_attrs=read-write find the primary after a failover.
  // Must not be empty.
  std::string conninfo;
  // Seconds a connection attempt may take; used when conninfo sets no
  // connect_timeout.
  uint32_t connect_timeout_s = 5;
  // After a failed connection the store waits this long before the next
  // attempt, doubling up to reconnect_max_ms; batches meanwhile fail at once
  // with a transient status (store_unavailable).
  uint32_t reconnect_min_ms = 100;
  uint32_t reconnect_max_ms = 5000;

  bool operator==(const PgOptions&) const = default;
};

}  // namespace courier::storage
