// LmdbStore: the Store on one LMDB environment in one directory. Keeps the
// environment's lifecycle, the batch and commit loop, and the dispatch of
// each request to its operation (log.h, receipts.h, housekeeping.h,
// groups.h, admin_ops.h, lmdb_push.h), which runs inside the batch's
// transaction.
//
// Every Flush() applies the queued requests in one write transaction and
// commits it once (group commit), so the cost of a durable commit is shared
// by everything that arrived since the last flush.
//
// Ownership: owns the environment; the directory must not be opened by
// another writer process at the same time (a read-only LmdbReader may).
// Thread: not thread-safe, like Store: one thread at a time (the worker of a
// ThreadedStore in the plugin). With sync os it also runs one thread of its
// own for the periodic sync (periodic_sync.h).
// Failure: Open() returns a Status; nothing throws out of this class. A
// failed commit fails its whole batch with kFull (map at its limit, disk
// full) or kIoError; after MDB_PANIC the environment is reopened.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "lmdb_options.h"
#include "store.h"

namespace courier::storage {

class BodySeq;
class Env;
class PeriodicSync;
class Txn;
struct Tables;

struct LmdbStats {
  uint64_t commits = 0;          // write transactions committed
  uint64_t requests = 0;         // requests applied in committed transactions
  uint64_t failed_batches = 0;   // batches failed as a whole
  uint64_t commit_us_total = 0;  // time in committed transactions, apply + commit
  uint64_t commit_us_max = 0;
  uint64_t map_grows = 0;
  uint64_t reopens = 0;         // environment reopened after a fatal LMDB error
  uint64_t last_commit_us = 0;  // duration of the last committed transaction
  uint64_t map_size_bytes = 0;
};

class LmdbStore final : public Store {
 public:
  // How many requests the queue keeps room for between batches (about 400 B
  // each): enough for a batch at saturation without reallocating, small
  // enough that a burst's room (a fill keeps thousands in flight) is given
  // back.
  static constexpr size_t kKeptQueueRoom = 256;

  // Opens (or creates) the store at options.path. On failure returns a
  // non-ok status that says what is wrong in one line, and leaves *out empty.
  static Status Open(const LmdbOptions& options, std::unique_ptr<LmdbStore>* out);

  ~LmdbStore() override;

  void Submit(Request request) override;
  // Commits the clients' requests in one transaction, then expiry and
  // retention (ExpireRequest, TrimRequest) in another, so that their failure
  // never fails a client's request. Completions come back in that order:
  // the clients' in submission order, then the maintenance ones in theirs.
  std::vector<Completion> Flush() override;
  size_t pending() const override { return queue_.size(); }

  const LmdbStats& stats() const { return stats_; }
  // With kOs: forced syncs done so far, and how many failed (each is retried).
  uint64_t os_syncs() const;
  uint64_t os_sync_failures() const;
  StoreStats commit_stats() const override {
    return {stats_.commits, stats_.commit_us_total, stats_.commit_us_max, stats_.last_commit_us};
  }

 private:
  explicit LmdbStore(const LmdbOptions& options);
  Status OpenEnv();
  // Closes and reopens the environment: after a failed write LMDB may refuse
  // every later transaction (MDB_PANIC) until it is reopened.
  void Reopen();
  bool GrowMap();
  // Applies `batch` in one write transaction and appends its completions.
  void CommitBatch(std::vector<Request>& batch, std::vector<Completion>* done);

  LmdbOptions options_;
  std::unique_ptr<Env> env_;
  std::unique_ptr<Tables> tables_;
  uint64_t map_size_ = 0;
  std::vector<Request> queue_;         // a vector, not a deque: no allocation per request
  std::unique_ptr<BodySeq> body_seq_;  // of the open write transaction
  std::string trim_resume_;            // first user key the next trim slice looks at
  LmdbStats stats_;
  // Declared after env_, so it stops (with its last sync) before the
  // environment closes.
  std::unique_ptr<PeriodicSync> os_sync_;  // kOs only
};

}  // namespace courier::storage
