// LmdbStore: the Store on one LMDB environment in one directory.
//
// Every Flush() applies the queued requests in one write transaction and
// commits it once (group commit), so the cost of a durable commit is shared
// by everything that arrived since the last flush.
//
// Thread: single-threaded, like Store; with sync os it also runs one thread
// of its own for the periodic sync (periodic_sync.h). Ownership: owns the
// environment; the directory must not be opened by another writer process
// at the same time.
#pragma once

#include <lmdb.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "lmdb_env.h"
#include "periodic_sync.h"
#include "store.h"
#include "store.pb.h"

namespace courier::storage {

enum class SyncMode {
  kFull,    // two fsyncs per commit (data, then meta page): a commit survives
            // power loss
  kNoMeta,  // one fsync per commit (MDB_NOMETASYNC): a power loss can undo the
            // last commit, never corrupt the store
  kOs,      // no fsync per commit (MDB_NOSYNC); a thread of its own syncs
            // the store every os_sync_interval_ms. Survives a crash of the
            // broker process; a power loss can lose the commits since the
            // last sync and, as LMDB warns, corrupt the store unless the
            // filesystem keeps write order
};

struct LmdbOptions {
  // Directory of the store. Created (mode 0700) when missing; its parent must exist.
  std::string path;
  // Initial size of the memory map. LMDB reserves address space, not disk.
  uint64_t map_size_mb = 1024;
  // The map doubles when full, up to this size. Past it, appends fail with
  // a kFull status (transient) until space is freed or the limit is raised.
  uint64_t max_map_size_mb = 65536;
  SyncMode sync = SyncMode::kFull;
  // With kOs: how often the store is forced to disk when something was
  // committed since, beside the commits; and once more when it closes.
  uint32_t os_sync_interval_ms = 1000;

  bool operator==(const LmdbOptions&) const = default;
};

struct LmdbStats {
  uint64_t commits = 0;           // write transactions committed
  uint64_t requests = 0;          // requests applied in committed transactions
  uint64_t failed_batches = 0;    // batches failed as a whole
  uint64_t commit_us_total = 0;   // time in committed transactions, apply + commit
  uint64_t commit_us_max = 0;
  uint64_t map_grows = 0;
  uint64_t reopens = 0;            // environment reopened after a fatal LMDB error
  uint64_t last_commit_us = 0;    // duration of the last committed transaction
  uint64_t map_size_bytes = 0;
};

class LmdbStore final : public Store {
 public:
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
  uint64_t os_syncs() const { return os_sync_ ? os_sync_->syncs() : 0; }
  uint64_t os_sync_failures() const { return os_sync_ ? os_sync_->failures() : 0; }
  StoreStats commit_stats() const override {
    return {stats_.commits, stats_.commit_us_total, stats_.commit_us_max, stats_.last_commit_us};
  }

 private:
  struct Tables {
    MDB_dbi meta, copies, bodies, refs, heads, dedup, convs, cursors, undelivered, groups, expiry, push_regs,
        push_due;
  };

  explicit LmdbStore(const LmdbOptions& options);
  Status OpenEnv();
  // Closes and reopens the environment: after a failed write LMDB may refuse
  // every later transaction (MDB_PANIC) until it is reopened.
  void Reopen();
  struct Applied {
    Status status;
    Result result;
  };
  // Applies one request inside txn. Expected failures come back as a status;
  // LMDB failures throw LmdbError and fail the whole batch.
  Applied Apply(Txn& txn, const Request& request);
  // Applies `batch` in one write transaction and appends its completions.
  void CommitBatch(std::vector<Request>& batch, std::vector<Completion>* done);
  Applied ApplyOne(Txn& txn, const AppendRequest& r);
  Applied ApplyOne(Txn& txn, const ReceiptRequest& r);
  Applied ApplyOne(Txn& txn, const PullRequest& r);
  Applied ApplyOne(Txn& txn, const MembersRequest& r);
  Applied ApplyOne(Txn& txn, const ExpireRequest& r);
  Applied ApplyOne(Txn& txn, const TrimRequest& r);
  Applied ApplyOne(Txn& txn, const AdminRequest& r);
  Applied ApplyOne(Txn& txn, const PushRegisterRequest& r);
  Applied ApplyOne(Txn& txn, const PushDoneRequest& r);
  Applied ApplyOne(Txn& txn, const PushScanRequest& r);
  AdminOpResult ApplyAdmin(Txn& txn, const AdminOp& op);
  std::optional<courier::store::v1::Group> ReadGroup(const Txn& txn, const std::string& name) const;
  // NotFound when the group does not exist, kForbidden when `user` is not a member.
  Status GroupOfMember(const Txn& txn, const std::string& name, const std::string& user,
                       courier::store::v1::Group* out) const;
  bool GrowMap();
  // The next body sequence inside the open write transaction. Read from meta
  // on first use, counted here, and written back once before the commit.
  uint64_t NextBodySeq(const Txn& txn);

  LmdbOptions options_;
  std::unique_ptr<Env> env_;
  Tables tables_{};
  uint64_t map_size_ = 0;
  std::vector<Request> queue_;  // a vector, not a deque: no allocation per request
  std::optional<uint64_t> body_seq_;  // last one handed out in the open write txn
  std::string trim_resume_;  // first user key the next trim slice looks at
  LmdbStats stats_;
  // Declared after env_, so it stops (with its last sync) before the
  // environment closes.
  std::unique_ptr<PeriodicSync> os_sync_;  // kOs only
};

}  // namespace courier::storage
