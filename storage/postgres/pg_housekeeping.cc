// Expiry and retention, like storage/lmdb/housekeeping.cc, in the
// maintenance transaction. Heads are locked in sorted order before any copy
// changes, the order client batches use, so a sweep and a batch wait for
// each other instead of deadlocking (a rare cycle through bodies is retried).
#include <algorithm>
#include <map>

#include "pg_ops.h"

namespace courier::storage {
namespace {

using courier::store::v1::Body;

void DecrementUndelivered(Batch& b, const std::string& user, int n) {
  HeadRow& h = b.Head(user);
  if (n <= 0 || h.undelivered <= 0) return;
  h.undelivered = std::max(0, h.undelivered - n);
  h.dirty = true;
}

}  // namespace

void Expire(Batch& b, const ExpireRequest& r, ExpireResult* out) {
  if (r.max_entries == 0) return;
  const std::string kCandidates =
      "SELECT usr, off, seq FROM courier_copies WHERE expiry_at IS NOT NULL AND expiry_at <= $1"
      " ORDER BY expiry_at, seq, off, usr LIMIT $2";
  PgResult first = b.Read(kCandidates, Params().Int8(r.now_ms).Int8(r.max_entries));
  if (first.rows() == 0) return;
  std::vector<std::string> users;
  for (int i = 0; i < first.rows(); ++i) users.emplace_back(first.bytes(i, 0));
  b.Lock(users, {});
  // Again, under the locks: a receipt may have come in between.
  PgResult rows = b.Read(
      "SELECT c.usr, c.off, c.seq, c.device, c.received, c.read, c.expired, b.body FROM courier_copies c"
      " LEFT JOIN courier_bodies b ON b.seq = c.seq WHERE c.expiry_at IS NOT NULL AND c.expiry_at <= $1"
      " ORDER BY c.expiry_at, c.seq, c.off, c.usr LIMIT $2 FOR UPDATE OF c",
      Params().Int8(r.now_ms).Int8(r.max_entries));
  PgArray done_u(kBytea), done_o(kInt4), hit_u(kBytea), hit_o(kInt4);
  std::map<std::string, int> hits;
  for (int i = 0; i < rows.rows(); ++i) {
    const std::string user(rows.bytes(i, 0));
    const CopyRow c{.offset = static_cast<int32_t>(rows.integer(i, 1)),
                    .seq = rows.integer(i, 2),
                    .device = rows.boolean(i, 3),
                    .received = rows.boolean(i, 4),
                    .read = rows.boolean(i, 5),
                    .expired = rows.boolean(i, 6)};
    done_u.Bytes(user), done_o.Int4(c.offset);
    if (c.expired || c.received) continue;
    if (rows.null(i, 7)) throw PgError("copy points at no body", "");
    Body body = ParseBody(rows.bytes(i, 7));
    out->expired.push_back(Expired{user, MessageOfCopy(body.message(), c), body.sender_offset()});
    hit_u.Bytes(user), hit_o.Int4(c.offset);
    ++hits[user];
  }
  b.Write(
      "UPDATE courier_copies c SET expiry_at = NULL FROM unnest($1::bytea[], $2::int4[]) AS k(u, o)"
      " WHERE c.usr = k.u AND c.off = k.o",
      Params().Array(done_u).Array(done_o));
  if (hit_u.size() > 0) {
    b.Write(
        "UPDATE courier_copies c SET expired = true FROM unnest($1::bytea[], $2::int4[]) AS k(u, o)"
        " WHERE c.usr = k.u AND c.off = k.o",
        Params().Array(hit_u).Array(hit_o));
  }
  for (const auto& [user, n] : hits) DecrementUndelivered(b, user, n);
}

void Trim(Batch& b, const TrimRequest& r, std::string* resume, TrimResult* out) {
  // Walk users from where the last slice stopped; wrap around once.
  std::vector<std::string> users;
  if (r.max_entries > 0) {
    PgResult rows = b.Read("SELECT usr FROM courier_heads WHERE usr >= $1 AND head > 0 ORDER BY usr LIMIT $2",
                           Params().Bytes(*resume).Int8(r.max_entries));
    for (int i = 0; i < rows.rows(); ++i) users.emplace_back(rows.bytes(i, 0));
  }
  if (users.empty()) resume->clear();
  for (const auto& user : users) {
    if (out->removed >= r.max_entries) break;
    *resume = user + '\0';  // the next key after this user
    // The user's oldest copies at or below its lowest device cursor (none:
    // keep everything) and older than the cut.
    PgResult rows = b.Read(
        "WITH f AS (SELECT min(cur) AS m FROM courier_cursors WHERE usr = $1)"
        " SELECT c.off, c.seq, c.device, c.received, c.expired, b.ts FROM courier_copies c"
        " JOIN courier_bodies b ON b.seq = c.seq, f"
        " WHERE f.m > 0 AND c.usr = $1 AND c.off >= 1 AND c.off <= f.m ORDER BY c.off LIMIT $2",
        Params().Bytes(user).Int8(r.max_entries - out->removed));
    PgArray offs(kInt4), seqs(kInt8);
    int waiting = 0;
    uint32_t n = 0;
    for (int i = 0; i < rows.rows(); ++i) {
      if (rows.integer(i, 5) >= r.older_than_ms) break;
      offs.Int4(static_cast<int32_t>(rows.integer(i, 0)));
      seqs.Int8(rows.integer(i, 1));
      if (!rows.boolean(i, 2) && !rows.boolean(i, 4) && !rows.boolean(i, 3)) ++waiting;
      ++n;
    }
    if (n == 0) continue;
    if (waiting > 0) DecrementUndelivered(b, user, waiting);
    b.Write("DELETE FROM courier_copies WHERE usr = $1 AND off = ANY($2)", Params().Bytes(user).Array(offs));
    // The body goes with its last copy.
    b.Write(
        "UPDATE courier_bodies b SET refs = b.refs - k.n FROM (SELECT s, count(*) AS n FROM unnest($1::int8[]) AS s"
        " GROUP BY s) AS k WHERE b.seq = k.s",
        Params().Array(seqs));
    b.Write("DELETE FROM courier_bodies WHERE seq = ANY($1) AND refs <= 0", Params().Array(seqs));
    out->removed += n;
  }
}

}  // namespace courier::storage
