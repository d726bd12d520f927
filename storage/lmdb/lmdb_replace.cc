#include "lmdb_replace.h"

#include "keys.h"
#include "lmdb_records.h"

namespace courier::storage {
namespace {

using courier::store::v1::Body;
using courier::v1::Message;

// Gives `target` the content of `m` (edit) or erases it (recall).
void Replace(Message* target, const Message& m) {
  if (m.recall()) {
    target->clear_payload();
    target->clear_encryption_type();
    target->clear_encrypted();
    target->clear_signature();
    target->set_recalled(true);
    return;
  }
  target->set_payload(m.payload());
  target->set_encryption_type(m.encryption_type());
  target->set_encrypted(m.encrypted());
  target->set_signature(m.signature());
  target->set_edited(true);
}

}  // namespace

ReplaceRefusal FindOriginal(const Txn& txn, MDB_dbi dedup, MDB_dbi copies, MDB_dbi bodies, const AppendRequest& r,
                            Original* out) {
  auto v = txn.Get(dedup, keys::DedupKey(r.sender, r.message.replaces()));
  if (!v) return ReplaceRefusal::kUnknownOriginal;
  auto offset = keys::DecodeCounter(*v);
  auto copy = offset ? ReadCopy(txn, copies, r.sender, *offset) : std::nullopt;
  if (!copy) throw LmdbError(MDB_CORRUPTED, "dedup record points at no entry");
  out->seq = copy->seq;
  out->body = ReadBody(txn, bodies, copy->seq);
  const Message& orig = out->body.message();
  if (!orig.replaces().empty()) return ReplaceRefusal::kUnknownOriginal;
  if (orig.recalled()) return ReplaceRefusal::kAlreadyRecalled;
  if (orig.to().user() != r.message.to().user() || orig.to().group() != r.message.to().group()) {
    return ReplaceRefusal::kRecipientChanged;
  }
  if (orig.server_timestamp() < r.replace_not_before_ms) return ReplaceRefusal::kWindowClosed;
  return ReplaceRefusal::kNone;
}

void ApplyReplace(Txn& txn, MDB_dbi bodies, Original& original, const Message& m, uint64_t entry_seq) {
  for (uint64_t seq : original.body.edits()) {
    auto earlier = FindBody(txn, bodies, seq);
    if (!earlier) continue;
    Replace(earlier->mutable_message(), m);
    txn.Put(bodies, keys::BodyKey(seq), earlier->SerializeAsString());
  }
  Replace(original.body.mutable_message(), m);
  if (!m.recall()) original.body.add_edits(entry_seq);
  txn.Put(bodies, keys::BodyKey(original.seq), original.body.SerializeAsString());
}

}  // namespace courier::storage
