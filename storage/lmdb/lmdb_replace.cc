#include "lmdb_replace.h"

#include "body_rules.h"
#include "keys.h"
#include "lmdb_records.h"

namespace courier::storage {

using courier::v1::Message;

ReplaceRefusal FindOriginal(const Txn& txn, MDB_dbi dedup, MDB_dbi copies, MDB_dbi bodies, const AppendRequest& r,
                            Original* out) {
  auto v = txn.Get(dedup, keys::DedupKey(r.sender, r.message.replaces()));
  if (!v) return ReplaceRefusal::kUnknownOriginal;
  auto offset = keys::DecodeCounter(*v);
  auto copy = offset ? ReadCopy(txn, copies, r.sender, *offset) : std::nullopt;
  if (!copy) throw LmdbError(MDB_CORRUPTED, "dedup record points at no entry");
  out->seq = copy->seq;
  out->body = ReadBody(txn, bodies, copy->seq);
  return CheckOriginal(out->body.message(), r);
}

void ApplyReplace(Txn& txn, MDB_dbi bodies, Original& original, const Message& m, uint64_t entry_seq) {
  for (uint64_t seq : original.body.edits()) {
    auto earlier = FindBody(txn, bodies, seq);
    if (!earlier) continue;
    ReplaceContent(earlier->mutable_message(), m);
    txn.Put(bodies, keys::BodyKey(seq), earlier->SerializeAsString());
  }
  ReplaceContent(original.body.mutable_message(), m);
  if (!m.recall()) original.body.add_edits(entry_seq);
  txn.Put(bodies, keys::BodyKey(original.seq), original.body.SerializeAsString());
}

}  // namespace courier::storage
