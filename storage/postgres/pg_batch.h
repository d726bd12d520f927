// The state one transaction of PgStore shares between its operations: the
// connection, the head and conversation rows it locked (counted in memory,
// written back before the next read and before COMMIT), the groups and push
// registrations it read, body sequences, and the copies and bodies it
// appends, buffered into one multi-row INSERT each. Private to
// storage/postgres/.
//
// Locking order (every edge, every transaction): courier_groups rows (sorted
// by name), then courier_heads rows (sorted by user), then courier_convs rows
// (sorted by key). PrepareBatch takes them all at the start of a batch;
// a key found later (a member added in the same batch) is locked on demand.
//
// Ownership: borrows the connection for one transaction. Thread: the
// store's. Failure: SQL errors throw PgError, which fails the transaction.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "append_rules.h"
#include "body_rules.h"
#include "messaging.pb.h"
#include "pg_conn.h"
#include "requests.h"
#include "store.pb.h"

namespace courier::storage {

// LMDB's key limit (511 bytes): the same requests are refused as Invalid.
inline constexpr size_t kMaxKey = 511;

// A copy's row in courier_copies, as MessageOfCopy needs it.
struct CopyRow {
  int32_t offset = 0;
  int64_t seq = 0;
  bool device = false;
  bool received = false;
  bool read = false;
  bool expired = false;
};

struct HeadRow {
  int32_t head = 0;
  int32_t undelivered = 0;
  bool dirty = false;
};

// The copy as a client sees it (the rule in storage/rules/body_rules.h).
courier::v1::Message MessageOfCopy(courier::v1::Message m, const CopyRow& c);
// Parses a stored body; throws PgError when it does not parse.
courier::store::v1::Body ParseBody(std::string_view bytes);

class Batch {
 public:
  explicit Batch(PgConn& db) : db_(db) {}

  // A statement whose result nobody waits for (an UPDATE of a row a Read
  // found, an upsert of an independent row).
  void Write(const std::string& sql, const Params& p = {}) { db_.Send(sql, p); }
  // Reads after sending every buffered write, so it sees them.
  PgResult Read(const std::string& sql, const Params& p = {});
  // Sends the buffered writes and the changed counters.
  void FlushWrites();

  // Locks (creating them as needed) heads and conversations, in the global
  // order; keys already locked are skipped. One round trip.
  void Lock(std::vector<std::string> users, std::vector<std::string> convs);
  HeadRow& Head(const std::string& user);  // locked on demand
  int32_t NextOffset(const std::string& user);
  int32_t NextUserOffset(const std::string& conv);
  // The head of a user, from the locked row or from the table.
  HeadRow PeekHead(const std::string& user);
  std::optional<int32_t> PeekConv(const std::string& conv) const;

  // Groups read for this batch: nullopt for a missing group.
  std::map<std::string, std::optional<courier::store::v1::Group>> groups;
  const std::optional<courier::store::v1::Group>& Group(const std::string& name);

  // Push registrations of a user, by device (read on first use).
  std::map<std::string, std::map<std::string, courier::store::v1::PushReg>> regs;
  const std::map<std::string, courier::store::v1::PushReg>& RegsOf(const std::string& user);
  void LoadRegs(const std::vector<std::string>& users);  // queued; call before a Read

  // (sender, id) pairs stored before or during this batch (dedup).
  std::set<std::pair<std::string, std::string>> sent;
  // Body sequences handed out from a preallocated pool.
  std::vector<int64_t> seqs;
  int64_t NextSeq();

  struct NewCopy {
    std::string user;
    CopyRow c;
    std::optional<std::string> dedup_id;
    int64_t expiry_at = 0;  // 0: not in the expiry index
  };
  struct NewBody {
    int64_t seq;
    std::string body;
    int32_t refs;
    std::string sender;
    int32_t sender_off;
    int64_t expires_ms;
    int64_t ts;
  };
  // Reads the groups and locks the rows `batch` touches, in the global
  // order; preloads dedup keys, body sequences and push registrations. Two
  // round trips at most.
  void Prepare(const std::vector<Request>& batch);

  void AddCopy(NewCopy c) { copies_.push_back(std::move(c)); }
  void AddBody(NewBody b) { bodies_.push_back(std::move(b)); }

 private:
  void QueueLock(std::vector<std::string> users, std::vector<std::string> convs, PgResult* h, PgResult* c);
  void TakeLocked(const PgResult& h, const PgResult& c);

  PgConn& db_;
  std::map<std::string, HeadRow> heads_;
  std::map<std::string, std::pair<int32_t, bool>> convs_;  // value, dirty
  size_t next_seq_ = 0;
  std::vector<NewCopy> copies_;
  std::vector<NewBody> bodies_;
};

}  // namespace courier::storage
