// PgStore: the Store on a PostgreSQL 15 database, shared by every Courier
// edge (Mosquitto broker) of a deployment. Same semantics as LmdbStore
// (requests.h); docs/scale-out.md has the schema and the design.
//
// Every Flush() applies the queued client requests in one transaction and
// commits it once. Offsets come from locked head and conversation rows,
// locked in one global order, so edges never deadlock and offsets never gap.
// Expiry and retention run in a transaction of their own, on one edge at a
// time (an advisory lock): the others' sweeps return nothing.
//
// Ownership: owns its connection. Thread: not thread-safe, like Store: one
// thread at a time (the worker of a ThreadedStore in the plugin); every call
// may block on the network, so never call it on the broker thread.
// Failure: no call throws. Open() fails only for what a restart cannot fix:
// a malformed conninfo, or a schema of a version this build does not know.
// An unreachable database is not a failure of Open(): every batch then fails
// with kIoError (transient: store_unavailable) until a reconnection, tried
// with backoff, succeeds. A COMMIT whose outcome is unknown (the connection
// broke) fails its whole batch with kIoError too; the clients' resends are
// answered by dedup. A COMMIT is never cancelled. No log line or Status
// message contains the password.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "pg_options.h"
#include "store.h"

namespace courier::storage {

// One line for the operator's log (connection lost, reconnected, schema
// created). Called on the thread that calls the store.
using PgLog = std::function<void(const std::string& line)>;

class PgStore final : public Store {
 public:
  // The schema version this build reads and writes.
  static constexpr int kSchemaVersion = 1;

  // Parses options.conninfo and tries to connect once. When the database is
  // reachable, creates the schema if absent (under an advisory lock, so that
  // edges starting together do not race) or checks its version. Returns
  // kInvalid for a malformed conninfo and kCorruption for an unknown schema
  // version, leaving *out empty. `log` may be empty.
  static Status Open(const PgOptions& options, PgLog log, std::unique_ptr<PgStore>* out);

  ~PgStore() override;

  void Submit(Request request) override;
  // Client requests in one transaction, then expiry and retention in
  // another, like LmdbStore::Flush().
  std::vector<Completion> Flush() override;
  size_t pending() const override;
  StoreStats commit_stats() const override;

  // Where the store connects, without the password: "host=... port=...
  // dbname=... user=...".
  static std::string Describe(const std::string& conninfo);

 private:
  struct Impl;
  explicit PgStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace courier::storage
