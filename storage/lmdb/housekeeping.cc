#include "housekeeping.h"

#include <algorithm>
#include <optional>

#include "copy_message.h"
#include "counters.h"
#include "keys.h"
#include "lmdb_records.h"
#include "store.pb.h"

namespace courier::storage {
namespace {

using courier::store::v1::Body;

// A copy retention removes, with what goes with it.
struct Gone {
  std::string record;      // the copy's value in `copies`
  uint64_t seq;            // its body
  uint32_t copies;         // the body's copy count
  std::string dedup_key;   // of a sender copy
  std::string expiry_key;  // of a copy still in the expiry index
  bool waiting;            // counted in `undelivered`
};

// The lowest cursor among `user`'s devices; none means keep everything.
std::optional<int32_t> LowestCursor(const Txn& txn, const Tables& t, const std::string& user) {
  std::optional<int32_t> floor;
  Cursor cur(txn, t.cursors);
  const std::string prefix = user + '\0';
  for (bool ok = cur.Seek(prefix); ok && cur.key().substr(0, prefix.size()) == prefix; ok = cur.Next()) {
    auto v = keys::DecodeCounter(cur.value());
    if (v) floor = floor ? std::min(*floor, *v) : *v;
  }
  return floor;
}

// Up to `max` of `user`'s oldest copies at or below `floor` and older than
// `older_than_ms`.
std::vector<Gone> FindTrimmable(const Txn& txn, const Tables& t, const std::string& user, int32_t floor,
                                int64_t older_than_ms, size_t max) {
  std::vector<Gone> gone;
  Cursor cur(txn, t.copies);
  for (bool ok = cur.SeekDup(user, keys::CopyProbe(1)); ok && gone.size() < max; ok = cur.NextDup()) {
    const auto copy = DecodeCopyOrThrow(cur.value());
    if (copy.offset > floor) break;
    Body body = ReadBody(txn, t.bodies, copy.seq);
    if (body.message().server_timestamp() >= older_than_ms) break;
    const bool waiting = !copy.device && !copy.expired && !copy.received;
    gone.push_back(Gone{std::string(cur.value()), copy.seq, body.copies(),
                        copy.device ? keys::DedupKey(user, body.message().id()) : std::string(),
                        waiting && body.expires_ms() > 0
                            ? keys::ExpiryKey(body.expires_ms(), copy.seq, copy.offset, user)
                            : std::string(),
                        waiting});
  }
  return gone;
}

void Remove(Txn& txn, const Tables& t, const std::string& user, const Gone& g) {
  txn.DelDup(t.copies, user, g.record);
  if (!g.dedup_key.empty()) txn.Del(t.dedup, g.dedup_key);
  if (!g.expiry_key.empty()) txn.Del(t.expiry, g.expiry_key);
  if (g.waiting) Decrement(txn, t.undelivered, user);
  // The body goes with its last copy.
  const std::string bkey = keys::BodyKey(g.seq);
  int64_t left = g.copies;
  if (auto v = txn.Get(t.refs, bkey)) {
    auto n = keys::DecodeCounter(*v);
    if (!n) throw LmdbError(MDB_CORRUPTED, "body reference count has a bad length");
    left = *n;
  }
  if (--left <= 0) {
    txn.Del(t.bodies, bkey);
    txn.Del(t.refs, bkey);
  } else {
    txn.Put(t.refs, bkey, keys::EncodeCounter(static_cast<int32_t>(left)));
  }
}

}  // namespace

void Expire(Txn& txn, const Tables& t, const ExpireRequest& r, ExpireResult* out) {
  std::vector<std::string> done;      // index keys to delete after the walk
  std::vector<keys::CopyRecord> hit;  // parallel to out->expired
  {
    Cursor cur(txn, t.expiry);
    for (bool ok = cur.Seek(std::string_view()); ok && done.size() < r.max_entries; ok = cur.Next()) {
      auto parts = keys::ParseExpiryKey(cur.key());
      if (!parts) throw LmdbError(MDB_CORRUPTED, "bad expiry index key");
      if (parts->expires_ms > r.now_ms) break;
      done.emplace_back(cur.key());
      auto copy = ReadCopy(txn, t.copies, parts->user, parts->offset);
      if (!copy || copy->seq != parts->seq || copy->expired || copy->received) continue;
      Body body = ReadBody(txn, t.bodies, copy->seq);
      out->expired.push_back(Expired{parts->user, MessageOfCopy(body, *copy), body.sender_offset()});
      hit.push_back(*copy);
    }
  }
  for (const auto& k : done) txn.Del(t.expiry, k);
  for (size_t i = 0; i < hit.size(); ++i) {
    hit[i].expired = true;
    RewriteCopy(txn, t.copies, out->expired[i].receiver, hit[i]);
    Decrement(txn, t.undelivered, out->expired[i].receiver);
  }
}

void Trim(Txn& txn, const Tables& t, const TrimRequest& r, std::string* resume, TrimResult* out) {
  // Walk users from where the last slice stopped; wrap around once.
  std::vector<std::string> users;
  {
    Cursor cur(txn, t.heads);
    for (bool ok = cur.Seek(*resume); ok && users.size() < r.max_entries; ok = cur.Next()) {
      users.emplace_back(cur.key());
    }
  }
  if (users.empty()) resume->clear();
  for (const auto& user : users) {
    if (out->removed >= r.max_entries) break;
    *resume = user + '\0';  // the next key after this user
    const std::optional<int32_t> floor = LowestCursor(txn, t, user);
    if (!floor || *floor <= 0) continue;
    const auto gone = FindTrimmable(txn, t, user, *floor, r.older_than_ms, r.max_entries - out->removed);
    for (const auto& g : gone) Remove(txn, t, user, g);
    out->removed += static_cast<uint32_t>(gone.size());
  }
}

}  // namespace courier::storage
