// Push registrations and due pushes, like storage/lmdb/lmdb_push.cc. A scan
// key keeps LMDB's form (user NUL device NUL offset as big-endian u32), so
// PushScanResult::next_key is the same for both engines.
#include "pg_ops.h"
#include "push_rules.h"

namespace courier::storage {
namespace {

using courier::store::v1::PushReg;

template <typename Proto>
Proto ParseOrThrow(std::string_view bytes, const char* what) {
  Proto p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) throw PgError(what, "");
  return p;
}

// Due rows in key order after a key: by (user, device, offset) when it is
// one (the index's order), else by the bytes of the whole key.
PgResult DueAfter(Batch& b, const std::string& after, int64_t limit) {
  static const std::string kCols =
      "SELECT d.usr, d.device, d.off, d.due, r.reg FROM courier_push_due d"
      " LEFT JOIN courier_push_regs r ON r.usr = d.usr AND r.device = d.device ";
  PushKey k;
  if (after.empty()) { return b.Read(kCols + "ORDER BY d.usr, d.device, d.off LIMIT $1", Params().Int8(limit)); }
  if (ParseDueKey(after, &k)) {
    return b.Read(kCols + "WHERE (d.usr, d.device, d.off) > ($1, $2, $3) ORDER BY d.usr, d.device, d.off LIMIT $4",
                  Params().Bytes(k.user).Bytes(k.device).Int4(k.offset).Int8(limit));
  }
  return b.Read(kCols +
                    "WHERE d.usr || '\\x00'::bytea || d.device || '\\x00'::bytea || int4send(d.off) > $1"
                    " ORDER BY d.usr, d.device, d.off LIMIT $2",
                Params().Bytes(after).Int8(limit));
}

}  // namespace

void WriteDuePushes(Batch& b, const std::string& user, int32_t offset, const courier::v1::Message& m,
                    int32_t undelivered, bool with_payload, std::vector<PushDue>* out) {
  const auto& regs = b.RegsOf(user);
  if (regs.empty()) return;
  const courier::store::v1::PushDue d = DueRecord(m, undelivered, with_payload);
  const std::string bytes = d.SerializeAsString();
  for (const auto& [device, reg] : regs) {
    b.Write(
        "INSERT INTO courier_push_due (usr, device, off, due) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (usr, device, off) DO UPDATE SET due = EXCLUDED.due",
        Params().Bytes(user).Bytes(device).Int4(offset).Bytes(bytes));
    out->push_back(DueOf(PushKey{user, device, offset}, reg, d));
  }
}

void ClearDuePushes(Batch& b, const std::string& user, int32_t offset) {
  b.Write("DELETE FROM courier_push_due WHERE usr = $1 AND off = $2", Params().Bytes(user).Int4(offset));
}

Status RegisterPush(Batch& b, const PushRegisterRequest& r, PushRegisterResult* out) {
  if (Status s = CheckPushNames(r.user, r.device, kMaxKey); !s.ok()) return s;
  const Params key = Params().Bytes(r.user).Bytes(r.device);
  PgResult was;
  if (r.token.empty()) {
    was = b.Read(
        "WITH gone AS (DELETE FROM courier_push_regs WHERE usr = $1 AND device = $2 RETURNING 1),"
        " due AS (DELETE FROM courier_push_due WHERE usr = $1 AND device = $2)"
        " SELECT EXISTS (SELECT 1 FROM gone)",
        key);
    if (b.regs.count(r.user)) b.regs[r.user].erase(r.device);
  } else {
    PushReg reg;
    reg.set_app(r.app);
    reg.set_token(r.token);
    reg.set_registered_ms(r.now_ms);
    was = b.Read(
        "WITH before AS (SELECT 1 FROM courier_push_regs WHERE usr = $1 AND device = $2),"
        " put AS (INSERT INTO courier_push_regs (usr, device, reg) VALUES ($1, $2, $3)"
        " ON CONFLICT (usr, device) DO UPDATE SET reg = EXCLUDED.reg)"
        " SELECT EXISTS (SELECT 1 FROM before)",
        Params().Bytes(r.user).Bytes(r.device).Bytes(reg.SerializeAsString()));
    if (b.regs.count(r.user)) b.regs[r.user][r.device] = reg;
  }
  out->existed = was.boolean(0, 0);
  return Status::Ok();
}

uint32_t RemoveDuePushes(Batch& b, const std::vector<PushKey>& keys) {
  PgArray u(kBytea), d(kBytea), o(kInt4);
  for (const auto& k : keys) u.Bytes(k.user), d.Bytes(k.device), o.Int4(k.offset);
  if (keys.empty()) return 0;
  PgResult r = b.Read(
      "WITH gone AS (DELETE FROM courier_push_due p USING unnest($1::bytea[], $2::bytea[], $3::int4[]) AS k(u, d, o)"
      " WHERE p.usr = k.u AND p.device = k.d AND p.off = k.o RETURNING 1) SELECT count(*) FROM gone",
      Params().Array(u).Array(d).Array(o));
  return static_cast<uint32_t>(r.integer(0, 0));
}

PushScanResult ScanDuePushes(Batch& b, const PushScanRequest& r) {
  PushScanResult out;
  std::string after = r.after_key;
  for (;;) {
    const int64_t page = int64_t{r.limit} - static_cast<int64_t>(out.due.size()) + 1;
    PgResult rows = DueAfter(b, after, page);
    for (int i = 0; i < rows.rows(); ++i) {
      const PushKey k{std::string(rows.bytes(i, 0)), std::string(rows.bytes(i, 1)),
                      static_cast<int32_t>(rows.integer(i, 2))};
      if (out.due.size() >= r.limit) {
        out.next_key =
            out.due.empty() ? r.after_key : DueKey(out.due.back().user, out.due.back().device, out.due.back().offset);
        return out;
      }
      after = DueKey(k.user, k.device, k.offset);
      if (rows.null(i, 4)) continue;  // unregistered meanwhile: nothing to send
      out.due.push_back(DueOf(k, ParseOrThrow<PushReg>(rows.bytes(i, 4), "push registration does not parse"),
                              ParseOrThrow<courier::store::v1::PushDue>(rows.bytes(i, 3), "due push does not parse")));
    }
    if (rows.rows() < page) return out;
  }
}

std::vector<AdminOpResult::PushReg> ListPushRegs(Batch& b, const std::string& user) {
  std::vector<AdminOpResult::PushReg> out;
  PgResult rows = b.Read(
      "SELECT r.device, r.reg, (SELECT count(*) FROM courier_push_due d WHERE d.usr = r.usr AND d.device = r.device)"
      " FROM courier_push_regs r WHERE r.usr = $1 ORDER BY r.device",
      Params().Bytes(user));
  for (int i = 0; i < rows.rows(); ++i) {
    const auto reg = ParseOrThrow<PushReg>(rows.bytes(i, 1), "push registration does not parse");
    out.push_back(AdminOpResult::PushReg{.device = std::string(rows.bytes(i, 0)),
                                         .app = reg.app(),
                                         .token = reg.token(),
                                         .registered_ms = reg.registered_ms(),
                                         .due = static_cast<int32_t>(rows.integer(i, 2))});
  }
  return out;
}

}  // namespace courier::storage
