#include "pg_store.h"

#include <algorithm>
#include <chrono>
#include <iterator>

#include "pg_batch.h"
#include "pg_conn.h"
#include "pg_connect.h"
#include "pg_ops.h"
#include "pg_schema.h"

namespace courier::storage {
namespace {

using Clock = std::chrono::steady_clock;

// Held by the edge whose maintenance transaction sweeps; the others skip.
constexpr int64_t kHousekeepingLockKey = 0x436f75726965ff02;
// A batch that deadlocked with another edge's is tried again this often.
constexpr int kMaxAttempts = 4;

struct Applied {
  Status status;
  Result result;
};

template <typename R, typename Op>
Applied Run(Op op) {
  Applied a;
  R out;
  a.status = op(&out);
  if (a.status.ok()) a.result = std::move(out);
  return a;
}

Applied ApplyOne(Batch& b, const AppendRequest& r) {
  return Run<AppendResult>([&](AppendResult* out) { return Append(b, r, out); });
}
Applied ApplyOne(Batch& b, const ReceiptRequest& r) {
  return Run<ReceiptResult>([&](ReceiptResult* out) { return Receipt(b, r, out); });
}
Applied ApplyOne(Batch& b, const PullRequest& r) {
  return Run<PullResult>([&](PullResult* out) { return Pull(b, r, out); });
}
Applied ApplyOne(Batch& b, const MembersRequest& r) {
  return Run<MembersResult>([&](MembersResult* out) { return Members(b, r, out); });
}
Applied ApplyOne(Batch& b, const AdminRequest& r) {
  return Run<AdminResult>([&](AdminResult* out) {
    Admin(b, r, out);
    return Status::Ok();
  });
}
Applied ApplyOne(Batch& b, const PushRegisterRequest& r) {
  return Run<PushRegisterResult>([&](PushRegisterResult* out) { return RegisterPush(b, r, out); });
}
Applied ApplyOne(Batch& b, const PushDoneRequest& r) {
  return Run<PushDoneResult>([&](PushDoneResult* out) {
    out->removed = RemoveDuePushes(b, r.done);
    for (const auto& k : r.unregister) {
      PushRegisterResult ignored;
      RegisterPush(
          b, PushRegisterRequest{.user = k.user, .device = k.device, .app = {}, .token = {}, .now_ms = 0, .reply = {}},
          &ignored);
    }
    return Status::Ok();
  });
}
Applied ApplyOne(Batch& b, const PushScanRequest& r) {
  return Run<PushScanResult>([&](PushScanResult* out) {
    *out = ScanDuePushes(b, r);
    return Status::Ok();
  });
}

bool IsUpkeep(const Request& r) {
  return std::holds_alternative<ExpireRequest>(r) || std::holds_alternative<TrimRequest>(r);
}

}  // namespace

struct PgStore::Impl {
  PgOptions options;
  PgLog log;
  PgParams params;    // for PgConn::Connect
  std::string where;  // DescribeConninfo(conninfo)
  std::unique_ptr<PgConn> conn;
  std::vector<Request> queue;
  std::string trim_resume;
  StoreStats stats;
  Clock::time_point next_attempt{};
  uint32_t backoff_ms = 0;
  std::string last_error;
  bool commit_sent = false;  // of the transaction being applied

  void Log(const std::string& line) const {
    if (log) log("postgres " + where + ": " + line);
  }

  // Connects and checks or creates the schema. kIoError when the database
  // cannot be reached, kCorruption for an unknown schema version.
  Status Connect() {
    std::string err;
    auto c = PgConn::Connect(params, &err);
    if (!c) return Status::IoError(err);
    bool created = false;
    try {
      // Every statement of the store reads by key. Without this, a
      // statement's cached generic plan, made while a table was small (a new
      // database, before autovacuum's first ANALYZE), goes on scanning the
      // whole table as it grows: the dedup check then read every stored copy
      // once per batch, and one edge ran at 0.65x the throughput it has with
      // index plans (docs/scale-out.md, Capacity).
      c->Send("SET enable_seqscan = off");
      c->Sync();
      Status s = EnsureSchema(*c, kSchemaVersion, &created);
      if (!s.ok()) return s;
    } catch (const PgError& e) { return Status::IoError(e.what()); }
    if (created) Log("created the courier schema, version " + std::to_string(kSchemaVersion));
    conn = std::move(c);
    return Status::Ok();
  }

  void Failed(const Status& s) {
    last_error = s.message();
    backoff_ms = backoff_ms == 0 ? options.reconnect_min_ms : std::min(backoff_ms * 2, options.reconnect_max_ms);
    next_attempt = Clock::now() + std::chrono::milliseconds(backoff_ms);
    Log("unavailable (next attempt in " + std::to_string(backoff_ms) + " ms): " + s.message());
  }

  bool EnsureConnected(Status* failure) {
    if (conn) return true;
    if (Clock::now() >= next_attempt) {
      Status s = Connect();
      if (s.ok()) {
        if (backoff_ms > 0) Log("connected");
        backoff_ms = 0;
        return true;
      }
      Failed(s);
    }
    *failure = Status::IoError("store_unavailable: " + last_error);
    return false;
  }

  std::vector<Applied> ApplyClient(const std::vector<Request>& batch) {
    Batch b(*conn);
    conn->Send("BEGIN");
    b.Prepare(batch);
    std::vector<Applied> applied;
    applied.reserve(batch.size());
    for (const auto& request : batch) {
      applied.push_back(std::visit(
          [&](const auto& r) -> Applied {
            using T = std::decay_t<decltype(r)>;
            if constexpr (std::is_same_v<T, ExpireRequest> || std::is_same_v<T, TrimRequest>) {
              return {Status::Invalid("maintenance in a client batch"), {}};
            } else {
              return ApplyOne(b, r);
            }
          },
          request));
    }
    b.FlushWrites();
    commit_sent = true;
    conn->Send("COMMIT");
    conn->Sync();
    return applied;
  }

  std::vector<Applied> ApplyUpkeep(const std::vector<Request>& batch) {
    Batch b(*conn);
    conn->Send("BEGIN");
    const bool mine = b.Read("SELECT pg_try_advisory_xact_lock($1)", Params().Int8(kHousekeepingLockKey)).boolean(0, 0);
    std::vector<Applied> applied;
    for (const auto& request : batch) {
      Applied a;
      if (const auto* e = std::get_if<ExpireRequest>(&request)) {
        ExpireResult out;
        if (mine) Expire(b, *e, &out);
        a.result = std::move(out);
      } else if (const auto* t = std::get_if<TrimRequest>(&request)) {
        TrimResult out;
        if (mine) Trim(b, *t, &trim_resume, &out);
        a.result = out;
      }
      applied.push_back(std::move(a));
    }
    b.FlushWrites();
    commit_sent = true;
    conn->Send("COMMIT");
    conn->Sync();
    return applied;
  }

  void RunBatch(std::vector<Request>& batch, bool upkeep, std::vector<Completion>* done) {
    if (batch.empty()) return;
    Status failure;
    for (int attempt = 1;; ++attempt) {
      if (!EnsureConnected(&failure)) break;
      commit_sent = false;
      try {
        const auto t0 = Clock::now();
        std::vector<Applied> applied = upkeep ? ApplyUpkeep(batch) : ApplyClient(batch);
        const uint64_t us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
        stats.last_commit_us = us;
        stats.commit_us_total += us;
        stats.commit_us_max = std::max(stats.commit_us_max, us);
        ++stats.commits;
        for (size_t i = 0; i < batch.size(); ++i) {
          done->push_back(Completion{std::move(batch[i]), std::move(applied[i].status), std::move(applied[i].result)});
        }
        return;
      } catch (const PgError& e) {
        // The transaction did not commit, or its COMMIT's outcome is
        // unknown: either way the connection's state is, so it goes. A
        // connection found broken before the COMMIT was sent (closed while
        // idle) wrote nothing: the batch is tried once more on a new one.
        const bool lost_idle = e.lost() && !commit_sent && attempt == 1;
        if (e.lost()) Log(std::string("connection lost: ") + e.what());
        conn.reset();
        failure = Status::IoError(e.what());
        if ((!e.retryable() && !lost_idle) || attempt >= kMaxAttempts) {
          Log(std::string("batch failed: ") + e.what());
          break;
        }
      }
    }
    for (auto& request : batch) done->push_back(Completion{std::move(request), failure, {}});
  }
};

Status PgStore::Open(const PgOptions& options, PgLog log, std::unique_ptr<PgStore>* out) {
  out->reset();
  if (options.conninfo.empty()) return Status::Invalid("postgres conninfo is empty");
  PgParams params;
  Status parsed = ConninfoParams(options.conninfo, static_cast<int>(options.connect_timeout_s), &params);
  if (!parsed.ok()) return parsed;
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->log = std::move(log);
  impl->where = DescribeConninfo(options.conninfo);
  impl->params = std::move(params);
  Status s = impl->Connect();
  if (s.code() == Status::Code::kCorruption) return Status::Corruption(impl->where + ": " + s.message());
  if (!s.ok()) impl->Failed(s);
  out->reset(new PgStore(std::move(impl)));
  return Status::Ok();
}

PgStore::PgStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PgStore::~PgStore() = default;

void PgStore::Submit(Request request) { impl_->queue.push_back(std::move(request)); }

std::vector<Completion> PgStore::Flush() {
  auto& q = impl_->queue;
  std::vector<Request> maintenance;
  if (std::any_of(q.begin(), q.end(), IsUpkeep)) {
    auto mid = std::stable_partition(q.begin(), q.end(), [](const Request& r) { return !IsUpkeep(r); });
    maintenance.assign(std::make_move_iterator(mid), std::make_move_iterator(q.end()));
    q.erase(mid, q.end());
  }
  std::vector<Completion> done;
  done.reserve(q.size() + maintenance.size());
  impl_->RunBatch(q, false, &done);
  impl_->RunBatch(maintenance, true, &done);
  q.clear();
  return done;
}

size_t PgStore::pending() const { return impl_->queue.size(); }
StoreStats PgStore::commit_stats() const { return impl_->stats; }

std::string PgStore::Describe(const std::string& conninfo) { return DescribeConninfo(conninfo); }

}  // namespace courier::storage
