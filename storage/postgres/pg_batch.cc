#include "pg_batch.h"

#include <algorithm>
#include <climits>

namespace courier::storage {
namespace {

using courier::store::v1::Body;
using courier::store::v1::Group;
using courier::store::v1::PushReg;
using courier::v1::Message;

void SortUnique(std::vector<std::string>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

PgArray BytesArray(const std::vector<std::string>& v) {
  PgArray a(kBytea);
  for (const auto& s : v) a.Bytes(s);
  return a;
}

template <typename Proto>
Proto ParseOrThrow(std::string_view bytes, const char* what) {
  Proto p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) throw PgError(what, "");
  return p;
}

// Adds the keys one request locks: an append's sender, receivers (a
// group's members) and conversation; a receipt's user.
void KeysOf(Batch& b, const Request& req, std::vector<std::string>* users, std::vector<std::string>* convs,
            std::vector<std::string>* reg_users, PgArray* dedup_users, PgArray* dedup_ids, int64_t* appends) {
  if (const auto* r = std::get_if<ReceiptRequest>(&req)) {
    if (CursorNamesFit(r->user, r->device, kMaxKey)) users->push_back(r->user);
    return;
  }
  const auto* r = std::get_if<AppendRequest>(&req);
  if (!r || !CheckAppendNames(*r, kMaxKey).ok()) return;
  ++*appends;
  dedup_users->Bytes(r->sender);
  dedup_ids->Bytes(r->message.id());
  users->push_back(r->sender);
  convs->push_back(r->conversation);
  std::vector<std::string> receivers = r->receivers;
  if (!r->group.empty()) {
    receivers.clear();
    const auto& g = b.Group(r->group);
    if (g) receivers.assign(g->members().begin(), g->members().end());
  }
  for (const auto& u : receivers) {
    if (!ValidName(u) || u == r->sender || u.size() + 5 > kMaxKey) continue;
    users->push_back(u);
    if (r->push) reg_users->push_back(u);
  }
}

// Reads (and share-locks, or locks for an admin change) the groups the
// batch names, sorted by name.
void ReadGroups(Batch& b, const std::vector<Request>& batch) {
  std::vector<std::string> names;
  bool change = false;
  auto add = [&](const std::string& g) {
    if (!g.empty() && g.size() <= kMaxKey) names.push_back(g);
  };
  for (const auto& req : batch) {
    if (const auto* a = std::get_if<AppendRequest>(&req)) add(a->group);
    if (const auto* m = std::get_if<MembersRequest>(&req)) add(m->group);
    if (const auto* ad = std::get_if<AdminRequest>(&req)) {
      for (const auto& op : ad->ops) {
        add(op.group);
        change |= op.kind == AdminOp::Kind::kCreateGroup || op.kind == AdminOp::Kind::kDeleteGroup ||
                  op.kind == AdminOp::Kind::kAddMember || op.kind == AdminOp::Kind::kRemoveMember;
      }
    }
  }
  SortUnique(&names);
  if (names.empty()) return;
  for (const auto& n : names) b.groups[n] = std::nullopt;
  PgResult rows = b.Read(change ? "SELECT name, body FROM courier_groups WHERE name = ANY($1) ORDER BY name FOR UPDATE"
                                : "SELECT name, body FROM courier_groups WHERE name = ANY($1) ORDER BY name FOR SHARE",
                         Params().Array(BytesArray(names)));
  for (int i = 0; i < rows.rows(); ++i) {
    b.groups[std::string(rows.bytes(i, 0))] = ParseOrThrow<Group>(rows.bytes(i, 1), "group record does not parse");
  }
}

}  // namespace

Message MessageOfCopy(Message m, const CopyRow& c) {
  return MessageOfCopy(std::move(m), CopyFlags{c.offset, c.device, c.received, c.read});
}

Body ParseBody(std::string_view bytes) { return ParseOrThrow<Body>(bytes, "body does not parse"); }

PgResult Batch::Read(const std::string& sql, const Params& p) {
  FlushWrites();
  return db_.Fetch(sql, p);
}

void Batch::FlushWrites() {
  if (!bodies_.empty()) {
    PgArray seq(kInt8), body(kBytea), refs(kInt4), sender(kBytea), soff(kInt4), exp(kInt8), ts(kInt8);
    for (const auto& x : bodies_) {
      seq.Int8(x.seq), body.Bytes(x.body), refs.Int4(x.refs), sender.Bytes(x.sender), soff.Int4(x.sender_off);
      exp.Int8(x.expires_ms), ts.Int8(x.ts);
    }
    db_.Send(
        "INSERT INTO courier_bodies (seq, body, refs, sender, sender_off, expires_ms, ts)"
        " SELECT * FROM unnest($1::int8[], $2::bytea[], $3::int4[], $4::bytea[], $5::int4[], $6::int8[], $7::int8[])",
        Params().Array(seq).Array(body).Array(refs).Array(sender).Array(soff).Array(exp).Array(ts));
    bodies_.clear();
  }
  if (!copies_.empty()) {
    PgArray usr(kBytea), off(kInt4), seq(kInt8), dev(kBool), rcv(kBool), rd(kBool), id(kBytea), exp(kInt8);
    for (const auto& x : copies_) {
      usr.Bytes(x.user), off.Int4(x.c.offset), seq.Int8(x.c.seq), dev.Bool(x.c.device), rcv.Bool(x.c.received);
      rd.Bool(x.c.read);
      x.dedup_id ? id.Bytes(*x.dedup_id) : id.Null();
      x.expiry_at > 0 ? exp.Int8(x.expiry_at) : exp.Null();
    }
    db_.Send(
        "INSERT INTO courier_copies (usr, off, seq, device, received, read, expired, dedup_id, expiry_at)"
        " SELECT u, o, s, d, rc, rd, false, i, e FROM unnest($1::bytea[], $2::int4[], $3::int8[], $4::bool[],"
        " $5::bool[], $6::bool[], $7::bytea[], $8::int8[]) AS t(u, o, s, d, rc, rd, i, e)",
        Params().Array(usr).Array(off).Array(seq).Array(dev).Array(rcv).Array(rd).Array(id).Array(exp));
    copies_.clear();
  }
  PgArray hu(kBytea), hh(kInt4), hd(kInt4);
  for (auto& [u, h] : heads_) {
    if (!h.dirty) continue;
    hu.Bytes(u), hh.Int4(h.head), hd.Int4(h.undelivered);
    h.dirty = false;
  }
  if (hu.size() > 0) {
    db_.Send(
        "UPDATE courier_heads h SET head = v.head, undelivered = v.und"
        " FROM unnest($1::bytea[], $2::int4[], $3::int4[]) AS v(u, head, und) WHERE h.usr = v.u",
        Params().Array(hu).Array(hh).Array(hd));
  }
  PgArray ck(kBytea), cn(kInt4);
  for (auto& [k, v] : convs_) {
    if (!v.second) continue;
    ck.Bytes(k), cn.Int4(v.first);
    v.second = false;
  }
  if (ck.size() > 0) {
    db_.Send("UPDATE courier_convs c SET n = v.n FROM unnest($1::bytea[], $2::int4[]) AS v(k, n) WHERE c.conv = v.k",
             Params().Array(ck).Array(cn));
  }
}

void Batch::QueueLock(std::vector<std::string> users, std::vector<std::string> convs, PgResult* h, PgResult* c) {
  std::erase_if(users, [&](const std::string& u) { return heads_.count(u) > 0; });
  std::erase_if(convs, [&](const std::string& k) { return convs_.count(k) > 0; });
  SortUnique(&users);
  SortUnique(&convs);
  if (!users.empty()) {
    const Params p = Params().Array(BytesArray(users));
    db_.Send("INSERT INTO courier_heads (usr) SELECT u FROM unnest($1::bytea[]) u ORDER BY u ON CONFLICT DO NOTHING",
             p);
    db_.Send("SELECT usr, head, undelivered FROM courier_heads WHERE usr = ANY($1) ORDER BY usr FOR UPDATE", p, h);
  }
  if (!convs.empty()) {
    const Params p = Params().Array(BytesArray(convs));
    db_.Send("INSERT INTO courier_convs (conv) SELECT c FROM unnest($1::bytea[]) c ORDER BY c ON CONFLICT DO NOTHING",
             p);
    db_.Send("SELECT conv, n FROM courier_convs WHERE conv = ANY($1) ORDER BY conv FOR UPDATE", p, c);
  }
}

void Batch::TakeLocked(const PgResult& h, const PgResult& c) {
  for (int i = 0; i < h.rows(); ++i) {
    heads_[std::string(h.bytes(i, 0))] =
        HeadRow{static_cast<int32_t>(h.integer(i, 1)), static_cast<int32_t>(h.integer(i, 2)), false};
  }
  for (int i = 0; i < c.rows(); ++i)
    convs_[std::string(c.bytes(i, 0))] = {static_cast<int32_t>(c.integer(i, 1)), false};
}

void Batch::Lock(std::vector<std::string> users, std::vector<std::string> convs) {
  FlushWrites();
  PgResult h, c;
  QueueLock(std::move(users), std::move(convs), &h, &c);
  db_.Wait();
  TakeLocked(h, c);
}

HeadRow& Batch::Head(const std::string& user) {
  auto it = heads_.find(user);
  if (it == heads_.end()) {
    Lock({user}, {});
    it = heads_.find(user);
    if (it == heads_.end()) throw PgError("head row vanished", "");
  }
  return it->second;
}

int32_t Batch::NextOffset(const std::string& user) {
  HeadRow& h = Head(user);
  // Offsets are int32 on the wire and must never wrap.
  if (h.head == INT32_MAX) throw PgError("offset counter exhausted", "");
  h.dirty = true;
  return ++h.head;
}

int32_t Batch::NextUserOffset(const std::string& conv) {
  auto it = convs_.find(conv);
  if (it == convs_.end()) {
    Lock({}, {conv});
    it = convs_.find(conv);
    if (it == convs_.end()) throw PgError("conversation row vanished", "");
  }
  if (it->second.first == INT32_MAX) throw PgError("offset counter exhausted", "");
  it->second.second = true;
  return ++it->second.first;
}

HeadRow Batch::PeekHead(const std::string& user) {
  auto it = heads_.find(user);
  if (it != heads_.end()) return it->second;
  PgResult r = Read("SELECT head, undelivered FROM courier_heads WHERE usr = $1", Params().Bytes(user));
  if (r.rows() == 0) return {};
  return HeadRow{static_cast<int32_t>(r.integer(0, 0)), static_cast<int32_t>(r.integer(0, 1)), false};
}

std::optional<int32_t> Batch::PeekConv(const std::string& conv) const {
  auto it = convs_.find(conv);
  if (it == convs_.end()) return std::nullopt;
  return it->second.first;
}

const std::optional<Group>& Batch::Group(const std::string& name) {
  auto it = groups.find(name);
  if (it != groups.end()) return it->second;
  auto& slot = groups[name];
  if (name.empty() || name.size() > kMaxKey) return slot;
  PgResult r = Read("SELECT body FROM courier_groups WHERE name = $1 FOR SHARE", Params().Bytes(name));
  if (r.rows() > 0) slot = ParseOrThrow<courier::store::v1::Group>(r.bytes(0, 0), "group record does not parse");
  return slot;
}

void Batch::LoadRegs(const std::vector<std::string>& users) {
  std::vector<std::string> missing;
  for (const auto& u : users) {
    if (!regs.count(u)) missing.push_back(u);
  }
  SortUnique(&missing);
  if (missing.empty()) return;
  PgResult r =
      Read("SELECT usr, device, reg FROM courier_push_regs WHERE usr = ANY($1)", Params().Array(BytesArray(missing)));
  for (const auto& u : missing) regs[u];
  for (int i = 0; i < r.rows(); ++i) {
    regs[std::string(r.bytes(i, 0))][std::string(r.bytes(i, 1))] =
        ParseOrThrow<PushReg>(r.bytes(i, 2), "push registration does not parse");
  }
}

const std::map<std::string, PushReg>& Batch::RegsOf(const std::string& user) {
  if (!regs.count(user)) LoadRegs({user});
  return regs[user];
}

int64_t Batch::NextSeq() {
  if (next_seq_ >= seqs.size()) {
    PgResult r = Read("SELECT nextval('courier_body_seq')");
    seqs.push_back(r.integer(0, 0));
  }
  return seqs[next_seq_++];
}

void Batch::Prepare(const std::vector<Request>& batch) {
  ReadGroups(*this, batch);
  std::vector<std::string> users, convs, reg_users;
  PgArray du(kBytea), di(kBytea);
  int64_t appends = 0;
  for (const auto& req : batch) KeysOf(*this, req, &users, &convs, &reg_users, &du, &di, &appends);
  PgResult h, c, dedup, seq, reg;
  QueueLock(std::move(users), std::move(convs), &h, &c);
  // After the locks: a statement's snapshot then shows what the edges that
  // held them committed.
  if (appends > 0) {
    db_.Send(
        "SELECT c.usr, c.dedup_id FROM courier_copies c JOIN unnest($1::bytea[], $2::bytea[]) AS k(u, i)"
        " ON c.usr = k.u AND c.dedup_id = k.i",
        Params().Array(du).Array(di), &dedup);
    db_.Send("SELECT nextval('courier_body_seq') FROM generate_series(1, $1)", Params().Int8(appends), &seq);
  }
  SortUnique(&reg_users);
  if (!reg_users.empty()) {
    db_.Send("SELECT usr, device, reg FROM courier_push_regs WHERE usr = ANY($1)",
             Params().Array(BytesArray(reg_users)), &reg);
  }
  db_.Wait();
  TakeLocked(h, c);
  for (int i = 0; i < dedup.rows(); ++i) sent.emplace(dedup.bytes(i, 0), dedup.bytes(i, 1));
  for (int i = 0; i < seq.rows(); ++i) seqs.push_back(seq.integer(i, 0));
  std::sort(seqs.begin(), seqs.end());
  for (const auto& u : reg_users) regs[u];
  for (int i = 0; i < reg.rows(); ++i) {
    regs[std::string(reg.bytes(i, 0))][std::string(reg.bytes(i, 1))] =
        ParseOrThrow<PushReg>(reg.bytes(i, 2), "push registration does not parse");
  }
}

}  // namespace courier::storage
