#include "pg_import.h"

#include <map>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "pg_batch.h"
#include "pg_connect.h"
#include "pg_schema.h"
#include "pg_store.h"

namespace courier::storage {
namespace {

// Rows sent in one multi-row INSERT.
constexpr size_t kRowsPerInsert = 2000;
// Entries asked of the Reader at a time (whole logs: at least one).
constexpr int64_t kEntriesPerRead = 50000;

const char* const kTables[] = {"courier_heads",   "courier_convs",  "courier_bodies",    "courier_copies",
                               "courier_cursors", "courier_groups", "courier_push_regs", "courier_push_due"};

// A refusal found while copying: the transaction is dropped.
struct Refused {
  Status status;
};

std::string Where(const std::string& user, int32_t offset) {
  return "entry " + std::to_string(offset) + " of user '" + user + "'";
}

// Columns of one multi-row INSERT ... SELECT * FROM unnest(...).
class Rows {
 public:
  Rows(std::string sql, std::vector<Oid> types) : sql_(std::move(sql)) {
    for (Oid t : types) cols_.emplace_back(t);
  }
  PgArray& operator[](size_t i) { return cols_[i]; }
  // Sends the rows when there are enough of them (or `force`).
  void Row(PgConn& db, bool force = false) {
    if (++n_ < kRowsPerInsert && !force) return;
    Send(db);
  }
  void Send(PgConn& db) {
    if (n_ == 0) return;
    Params p;
    for (const auto& c : cols_) p.Array(c);
    db.Send(sql_, p);
    for (auto& c : cols_) c = PgArray(c.element());
    n_ = 0;
  }

 private:
  std::string sql_;
  std::vector<PgArray> cols_;
  size_t n_ = 0;
};

class Importer {
 public:
  Importer(Reader& from, PgConn& db, ImportCounts* counts) : from_(from), db_(db), n_(*counts) {}
  void Run(const ImportProgress& progress);

 private:
  void CheckEmpty();
  void ReadDedup();
  void CopyLogs(const ImportProgress& progress);
  void CopyEntries(const std::vector<std::pair<std::string, int32_t>>& users);
  void CopyEntry(const StoredEntry& e);
  void CopyHeads();
  void CopySmallTables();
  void CopyPushes();
  void Finish();

  Reader& from_;
  PgConn& db_;
  ImportCounts& n_;
  std::map<std::pair<std::string, int32_t>, std::string> dedup_;  // (sender, offset) -> id
  std::set<uint64_t> bodies_;
  uint64_t max_seq_ = 0;
  Rows body_rows_{
      "INSERT INTO courier_bodies (seq, body, refs, sender, sender_off, expires_ms, ts)"
      " SELECT s, b, 0, u, o, e, t FROM unnest($1::int8[], $2::bytea[], $3::bytea[], $4::int4[], $5::int8[],"
      " $6::int8[]) AS x(s, b, u, o, e, t)",
      {kInt8, kBytea, kBytea, kInt4, kInt8, kInt8}};
  Rows copy_rows_{
      "INSERT INTO courier_copies (usr, off, seq, device, received, read, expired, dedup_id, expiry_at)"
      " SELECT * FROM unnest($1::bytea[], $2::int4[], $3::int8[], $4::bool[], $5::bool[], $6::bool[], $7::bool[],"
      " $8::bytea[], $9::int8[])",
      {kBytea, kInt4, kInt8, kBool, kBool, kBool, kBool, kBytea, kInt8}};
};

void Importer::Run(const ImportProgress& progress) {
  if (from_.schema_version() != "2") {
    throw Refused{Status::Invalid("the store has schema version " + from_.schema_version() +
                                  "; open it once with a current broker (schema 2) before migrating")};
  }
  db_.Send("BEGIN");
  CheckEmpty();
  ReadDedup();
  CopyLogs(progress);
  CopyHeads();
  CopySmallTables();
  CopyPushes();
  Finish();
  db_.Send("COMMIT");
  db_.Sync();
}

// Locks every table against concurrent writers, then refuses when one of
// them has rows.
void Importer::CheckEmpty() {
  std::string lock = "LOCK TABLE ", probe;
  for (const char* t : kTables) {
    lock += std::string(lock.size() > 11 ? ", " : "") + t;
    probe += std::string(probe.empty() ? "" : " UNION ALL ") + "SELECT '" + t + "'::text WHERE EXISTS (SELECT 1 FROM " +
             t + ")";
  }
  db_.Send(lock + " IN EXCLUSIVE MODE");
  PgResult r = db_.Fetch(probe);
  if (r.rows() > 0) {
    throw Refused{Status::Invalid("the target database is not empty: table " + std::string(r.bytes(0, 0)) +
                                  " has rows; migrate copies only into an empty Courier schema")};
  }
}

void Importer::ReadDedup() {
  for (auto& d : from_.DedupEntries()) {
    dedup_[{d.sender, d.offset}] = std::move(d.id);
    ++n_.dedup;
  }
}

void Importer::CopyLogs(const ImportProgress& progress) {
  std::vector<std::pair<std::string, int32_t>> users;
  int64_t pending = 0;
  for (const auto& h : from_.Heads()) {
    users.emplace_back(h.key, 0);
    pending += h.value;
    if (pending >= kEntriesPerRead) {
      CopyEntries(users);
      users.clear();
      pending = 0;
      if (progress) progress(n_.entries);
    }
  }
  CopyEntries(users);
  body_rows_.Send(db_);
  copy_rows_.Send(db_);
  if (progress) progress(n_.entries);
}

void Importer::CopyEntries(const std::vector<std::pair<std::string, int32_t>>& users) {
  if (users.empty()) return;
  for (const auto& e : from_.Entries(users)) CopyEntry(e);
  db_.Wait();  // surfaces a failed INSERT early, and bounds the pipeline
}

void Importer::CopyEntry(const StoredEntry& e) {
  if (e.undecodable_bytes > 0) {
    throw Refused{Status::Corruption("a copy record of user '" + e.user + "' does not decode (" +
                                     std::to_string(e.undecodable_bytes) + " bytes)")};
  }
  if (!e.body) {
    throw Refused{Status::Corruption(Where(e.user, e.offset) + ": its body " + std::to_string(e.body_id) +
                                     " is missing or does not parse")};
  }
  const auto& body = *e.body;
  if (bodies_.insert(e.body_id).second) {
    body_rows_[0].Int8(static_cast<int64_t>(e.body_id));
    body_rows_[1].Bytes(body.SerializeAsString());
    body_rows_[2].Bytes(SenderOf(body));
    body_rows_[3].Int4(body.sender_offset());
    body_rows_[4].Int8(body.expires_ms());
    body_rows_[5].Int8(body.message().server_timestamp());
    body_rows_.Row(db_);
    max_seq_ = std::max(max_seq_, e.body_id);
    ++n_.bodies;
  }
  for (uint64_t s : body.edits()) max_seq_ = std::max(max_seq_, s);
  copy_rows_[0].Bytes(e.user);
  copy_rows_[1].Int4(e.offset);
  copy_rows_[2].Int8(static_cast<int64_t>(e.body_id));
  copy_rows_[3].Bool(e.device);
  copy_rows_[4].Bool(e.received);
  copy_rows_[5].Bool(e.read);
  copy_rows_[6].Bool(e.expired);
  auto d = e.device ? dedup_.find({e.user, e.offset}) : dedup_.end();
  if (d != dedup_.end()) {
    copy_rows_[7].Bytes(d->second);
    dedup_.erase(d);
  } else {
    copy_rows_[7].Null();
  }
  // The expiry index: RECEIVER copies still waiting for a device.
  const bool waiting = !e.device && !e.received && !e.expired;
  waiting&& body.expires_ms() > 0 ? copy_rows_[8].Int8(body.expires_ms()) : copy_rows_[8].Null();
  copy_rows_.Row(db_);
  ++n_.entries;
}

void Importer::CopyHeads() {
  std::map<std::string, std::pair<int32_t, int32_t>> heads;  // user -> head, undelivered
  for (const auto& h : from_.Heads()) heads[h.key].first = h.value;
  for (const auto& u : from_.Undelivered()) heads[u.key].second = u.value;
  Rows rows(
      "INSERT INTO courier_heads (usr, head, undelivered) SELECT * FROM unnest($1::bytea[], $2::int4[], $3::int4[])",
      {kBytea, kInt4, kInt4});
  for (const auto& [user, v] : heads) {
    rows[0].Bytes(user);
    rows[1].Int4(v.first);
    rows[2].Int4(v.second);
    rows.Row(db_);
    if (v.first > 0) ++n_.users;
  }
  rows.Send(db_);
  Rows convs("INSERT INTO courier_convs (conv, n) SELECT * FROM unnest($1::bytea[], $2::int4[])", {kBytea, kInt4});
  for (const auto& c : from_.Conversations()) {
    convs[0].Bytes(c.key);
    convs[1].Int4(c.value);
    convs.Row(db_);
    ++n_.conversations;
  }
  convs.Send(db_);
}

void Importer::CopySmallTables() {
  Rows cursors(
      "INSERT INTO courier_cursors (usr, device, cur) SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::int4[])",
      {kBytea, kBytea, kInt4});
  for (const auto& c : from_.Cursors()) {
    cursors[0].Bytes(c.user);
    cursors[1].Bytes(c.device);
    cursors[2].Int4(c.offset);
    cursors.Row(db_);
    ++n_.cursors;
  }
  cursors.Send(db_);
  Rows groups("INSERT INTO courier_groups (name, body) SELECT * FROM unnest($1::bytea[], $2::bytea[])",
              {kBytea, kBytea});
  for (const auto& g : from_.Groups()) {
    if (!g.group) throw Refused{Status::Corruption("group '" + g.name + "' does not parse")};
    groups[0].Bytes(g.name);
    groups[1].Bytes(g.group->SerializeAsString());
    groups.Row(db_);
    ++n_.groups;
  }
  groups.Send(db_);
}

void Importer::CopyPushes() {
  Rows regs(
      "INSERT INTO courier_push_regs (usr, device, reg) SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::bytea[])",
      {kBytea, kBytea, kBytea});
  for (const auto& r : from_.PushRegs()) {
    if (!r.reg) {
      throw Refused{
          Status::Corruption("push registration of device '" + r.device + "' of user '" + r.user + "' does not parse")};
    }
    regs[0].Bytes(r.user);
    regs[1].Bytes(r.device);
    regs[2].Bytes(r.reg->SerializeAsString());
    regs.Row(db_);
    ++n_.push_regs;
  }
  regs.Send(db_);
  Rows due(
      "INSERT INTO courier_push_due (usr, device, off, due)"
      " SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::int4[], $4::bytea[])",
      {kBytea, kBytea, kInt4, kBytea});
  for (const auto& d : from_.DuePushes()) {
    if (!d.due) {
      throw Refused{Status::Corruption("due push of " + Where(d.user, d.offset) + " for device '" + d.device +
                                       "' does not parse")};
    }
    due[0].Bytes(d.user);
    due[1].Bytes(d.device);
    due[2].Int4(d.offset);
    due[3].Bytes(d.due->SerializeAsString());
    due.Row(db_);
    ++n_.due_pushes;
  }
  due.Send(db_);
}

// Reference counts from the copies, the body sequence past every body a
// store ever named, and the dedup records that found no DEVICE copy.
void Importer::Finish() {
  if (!dedup_.empty()) {
    const auto& [key, id] = *dedup_.begin();
    throw Refused{Status::Corruption("dedup record ('" + key.first + "', '" + id + "') points at " +
                                     Where(key.first, key.second) + ", which is not a stored DEVICE copy")};
  }
  db_.Send(
      "UPDATE courier_bodies b SET refs = c.n FROM (SELECT seq, count(*)::int4 AS n FROM courier_copies GROUP BY seq) c"
      " WHERE b.seq = c.seq");
  n_.body_sequence = std::max<uint64_t>(max_seq_, from_.BodySequence());
  if (n_.body_sequence > 0) {
    db_.Send("SELECT setval('courier_body_seq', $1)", Params().Int8(static_cast<int64_t>(n_.body_sequence)));
  }
}

}  // namespace

Status ImportIntoPg(Reader& from, const std::string& conninfo, ImportCounts* out, ImportProgress progress) {
  *out = ImportCounts{};
  std::unique_ptr<PgConn> db;
  Status s = ConnectPg(conninfo, 5, &db);
  if (!s.ok()) return s;
  try {
    bool created = false;
    s = EnsureSchema(*db, PgStore::kSchemaVersion, &created);
    if (!s.ok()) return s;
    Importer(from, *db, out).Run(progress);
  } catch (const Refused& r) {
    *out = ImportCounts{};
    return r.status;  // closing the connection rolls the transaction back
  } catch (const PgError& e) {
    *out = ImportCounts{};
    return Status::IoError(std::string("postgres: ") + e.what());
  }
  return Status::Ok();
}

}  // namespace courier::storage
