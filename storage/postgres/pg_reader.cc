#include "pg_reader.h"

#include <map>

#include "pg_batch.h"
#include "pg_connect.h"
#include "pg_ops.h"
#include "pg_store.h"

namespace courier::storage {
namespace {

using courier::store::v1::Body;

template <typename Proto>
std::optional<Proto> ParseOrNull(std::string_view bytes) {
  Proto p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return std::nullopt;
  return p;
}

class PgReader final : public Reader {
 public:
  Status Open(const std::string& conninfo);

  std::string schema_version() const override { return schema_; }
  std::vector<TableSize> Tables() override;
  Status ScanMessageSpace(MessageSpace* out) override;
  Status ScanPageSpace(PageSpace*) override {
    return Status::NotFound("PostgreSQL keeps no pages of the store's own; its tables' pages are in Tables()");
  }
  int64_t StoredCopies() override {
    PgResult r = Query("SELECT count(*) FROM courier_copies");
    return r.rows() == 1 ? r.integer(0, 0) : 0;
  }
  std::vector<Counter> Heads() override {
    return Counters("SELECT usr, head FROM courier_heads WHERE head > 0 ORDER BY usr");
  }
  std::vector<Counter> Conversations() override {
    return Counters("SELECT conv, n FROM courier_convs WHERE n > 0 ORDER BY conv");
  }
  std::vector<Counter> Undelivered() override {
    return Counters("SELECT usr, undelivered FROM courier_heads WHERE undelivered <> 0 ORDER BY usr");
  }
  std::vector<DeviceCursor> Cursors() override;
  std::vector<DedupEntry> DedupEntries() override;
  std::vector<StoredGroup> Groups() override;
  std::vector<AdminOpResult::PushReg> PushRegistrations(const std::string& user) override;
  std::vector<StoredPushReg> PushRegs() override;
  std::vector<StoredPushDue> DuePushes() override;
  uint64_t BodySequence() override;
  std::vector<StoredEntry> Entries(const std::vector<std::pair<std::string, int32_t>>& from) override;

 private:
  // Runs a query; an empty result once the connection failed (a reader
  // shows what it could read).
  PgResult Query(const std::string& sql, const Params& p = {});
  std::vector<Counter> Counters(const std::string& sql);
  void CopiesOf(const std::string& user, int32_t first, std::vector<StoredEntry>* out);
  void ResolveReceivers(std::vector<StoredEntry>* entries);

  std::unique_ptr<PgConn> db_;
  bool failed_ = false;
  std::string schema_;
};

Status PgReader::Open(const std::string& conninfo) {
  Status s = ConnectPg(conninfo, 5, &db_);
  if (!s.ok()) return s;
  try {
    db_->Send("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    PgResult t = db_->Fetch("SELECT to_regclass('courier_schema') IS NOT NULL");
    if (!t.boolean(0, 0)) return Status::NotFound("no courier schema in " + PgStore::Describe(conninfo));
    PgResult v = db_->Fetch("SELECT version FROM courier_schema");
    if (v.rows() != 1) return Status::Corruption("table courier_schema must have one row");
    if (v.integer(0, 0) != PgStore::kSchemaVersion) {
      return Status::Corruption("courier schema version " + std::to_string(v.integer(0, 0)) + "; this build reads " +
                                std::to_string(PgStore::kSchemaVersion));
    }
    schema_ = std::to_string(v.integer(0, 0));
  } catch (const PgError& e) { return Status::IoError(e.what()); }
  return Status::Ok();
}

PgResult PgReader::Query(const std::string& sql, const Params& p) {
  if (failed_) return {};
  try {
    return db_->Fetch(sql, p);
  } catch (const PgError&) {
    failed_ = true;
    return {};
  }
}

std::vector<Counter> PgReader::Counters(const std::string& sql) {
  PgResult r = Query(sql);
  std::vector<Counter> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back({std::string(r.bytes(i, 0)), static_cast<int32_t>(r.integer(i, 1))});
  return out;
}

std::vector<TableSize> PgReader::Tables() {
  PgResult t = Query(
      "SELECT relname::text, relpages, current_setting('block_size')::int4 FROM pg_class"
      " WHERE relkind = 'r' AND relname LIKE 'courier\\_%' AND pg_table_is_visible(oid) ORDER BY relname");
  std::vector<TableSize> out;
  for (int i = 0; i < t.rows(); ++i) {
    TableSize s{.name = std::string(t.bytes(i, 0))};
    s.leaf_pages = t.integer(i, 1);
    s.page_size = static_cast<int>(t.integer(i, 2));
    PgResult n = Query("SELECT count(*) FROM \"" + s.name + "\"");
    if (n.rows() == 1) s.records = n.integer(0, 0);
    out.push_back(std::move(s));
  }
  return out;
}

Status PgReader::ScanMessageSpace(MessageSpace* out) {
  PgResult b = Query("SELECT count(*), coalesce(sum(octet_length(body)), 0)::int8 FROM courier_bodies");
  PgResult c = Query(
      "SELECT count(*), coalesce(sum(pg_column_size(c.*)), 0)::int8,"
      " (SELECT coalesce(sum(octet_length(usr)), 0)::int8 FROM (SELECT DISTINCT usr FROM courier_copies) u)"
      " FROM courier_copies c");
  if (b.rows() != 1 || c.rows() != 1) return Status::IoError("cannot read the message tables");
  out->bodies.size = TableSize{.name = "courier_bodies", .records = b.integer(0, 0)};
  out->bodies.records = b.integer(0, 0);
  out->bodies.key_bytes = 8 * out->bodies.records;
  out->bodies.value_bytes = b.integer(0, 1);
  out->copies.size = TableSize{.name = "courier_copies", .records = c.integer(0, 0)};
  out->copies.records = c.integer(0, 0);
  out->copies.value_bytes = c.integer(0, 1);
  out->copies.key_bytes = c.integer(0, 2);
  // The payload of every 16th body, scaled to all of them.
  PgResult s = Query("SELECT body FROM courier_bodies WHERE seq % 16 = 1");
  for (int i = 0; i < s.rows(); ++i) {
    if (auto body = ParseOrNull<Body>(s.bytes(i, 0))) {
      ++out->sampled;
      out->payload_bytes += static_cast<int64_t>(body->message().payload().size());
    }
  }
  if (out->sampled > 0) out->payload_bytes = out->payload_bytes * out->bodies.records / out->sampled;
  return failed_ ? Status::IoError("cannot read the message tables") : Status::Ok();
}

std::vector<DeviceCursor> PgReader::Cursors() {
  PgResult r = Query("SELECT usr, device, cur FROM courier_cursors ORDER BY usr, device");
  std::vector<DeviceCursor> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({std::string(r.bytes(i, 0)), std::string(r.bytes(i, 1)), static_cast<int32_t>(r.integer(i, 2))});
  }
  return out;
}

std::vector<DedupEntry> PgReader::DedupEntries() {
  PgResult r = Query("SELECT usr, dedup_id, off FROM courier_copies WHERE dedup_id IS NOT NULL ORDER BY usr, dedup_id");
  std::vector<DedupEntry> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({std::string(r.bytes(i, 0)), std::string(r.bytes(i, 1)), static_cast<int32_t>(r.integer(i, 2))});
  }
  return out;
}

std::vector<StoredGroup> PgReader::Groups() {
  PgResult r = Query("SELECT name, body FROM courier_groups ORDER BY name");
  std::vector<StoredGroup> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({std::string(r.bytes(i, 0)), ParseOrNull<courier::store::v1::Group>(r.bytes(i, 1))});
  }
  return out;
}

std::vector<AdminOpResult::PushReg> PgReader::PushRegistrations(const std::string& user) {
  if (failed_) return {};
  try {
    Batch b(*db_);
    return ListPushRegs(b, user);
  } catch (const PgError&) { return {}; }
}

std::vector<StoredPushReg> PgReader::PushRegs() {
  PgResult r = Query("SELECT usr, device, reg FROM courier_push_regs ORDER BY usr, device");
  std::vector<StoredPushReg> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({std::string(r.bytes(i, 0)), std::string(r.bytes(i, 1)),
                   ParseOrNull<courier::store::v1::PushReg>(r.bytes(i, 2))});
  }
  return out;
}

std::vector<StoredPushDue> PgReader::DuePushes() {
  PgResult r = Query("SELECT usr, device, off, due FROM courier_push_due ORDER BY usr, device, off");
  std::vector<StoredPushDue> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({std::string(r.bytes(i, 0)), std::string(r.bytes(i, 1)), static_cast<int32_t>(r.integer(i, 2)),
                   ParseOrNull<courier::store::v1::PushDue>(r.bytes(i, 3))});
  }
  return out;
}

uint64_t PgReader::BodySequence() {
  PgResult r = Query(
      "SELECT CASE WHEN is_called THEN last_value ELSE 0 END,"
      " (SELECT coalesce(max(seq), 0) FROM courier_bodies) FROM courier_body_seq");
  if (r.rows() != 1) return 0;
  return static_cast<uint64_t>(std::max(r.integer(0, 0), r.integer(0, 1)));
}

std::vector<StoredEntry> PgReader::Entries(const std::vector<std::pair<std::string, int32_t>>& from) {
  std::vector<StoredEntry> out;
  for (const auto& [user, first] : from) CopiesOf(user, first, &out);
  ResolveReceivers(&out);
  return out;
}

void PgReader::CopiesOf(const std::string& user, int32_t first, std::vector<StoredEntry>* out) {
  PgResult r = Query(
      "SELECT c.off, c.seq, c.device, c.received, c.read, c.expired, b.body FROM courier_copies c"
      " LEFT JOIN courier_bodies b ON b.seq = c.seq WHERE c.usr = $1 AND c.off >= $2 ORDER BY c.off",
      Params().Bytes(user).Int4(first));
  for (int i = 0; i < r.rows(); ++i) {
    StoredEntry e{.user = user};
    e.offset = static_cast<int32_t>(r.integer(i, 0));
    e.body_id = static_cast<uint64_t>(r.integer(i, 1));
    e.device = r.boolean(i, 2);
    e.received = r.boolean(i, 3);
    e.read = r.boolean(i, 4);
    e.expired = r.boolean(i, 5);
    if (!r.null(i, 6)) e.body = ParseOrNull<Body>(r.bytes(i, 6));
    if (e.body) {
      const CopyRow c{.offset = e.offset, .seq = 0, .device = e.device, .received = e.received, .read = e.read};
      e.message = MessageOfCopy(e.body->message(), c);
      if (!e.device) {
        e.peer_user = SenderOf(*e.body);
        e.peer_offset = e.body->sender_offset();
      }
    }
    out->push_back(std::move(e));
  }
}

// A DEVICE copy of a 1:1 message names its receiver's copy: the RECEIVER
// copy of the same body (as LmdbReader finds it).
void PgReader::ResolveReceivers(std::vector<StoredEntry>* entries) {
  PgArray seqs(kInt8);
  for (const auto& e : *entries) {
    if (e.device && e.body && e.body->recipients() == 0 && !e.body->message().to().user().empty() &&
        e.body->message().to().user() != e.user) {
      seqs.Int8(static_cast<int64_t>(e.body_id));
    }
  }
  if (seqs.size() == 0) return;
  PgResult r =
      Query("SELECT seq, usr, off FROM courier_copies WHERE NOT device AND seq = ANY($1)", Params().Array(seqs));
  std::map<uint64_t, std::pair<std::string, int32_t>> receiver_of;
  for (int i = 0; i < r.rows(); ++i) {
    receiver_of[static_cast<uint64_t>(r.integer(i, 0))] = {std::string(r.bytes(i, 1)),
                                                           static_cast<int32_t>(r.integer(i, 2))};
  }
  for (auto& e : *entries) {
    if (!e.device || !e.body) continue;
    if (auto it = receiver_of.find(e.body_id); it != receiver_of.end()) {
      e.peer_user = it->second.first;
      e.peer_offset = it->second.second;
    }
  }
}

}  // namespace

Status OpenPgReader(const std::string& conninfo, std::unique_ptr<Reader>* out) {
  out->reset();
  auto reader = std::make_unique<PgReader>();
  Status s = reader->Open(conninfo);
  if (s.ok()) *out = std::move(reader);
  return s;
}

}  // namespace courier::storage
