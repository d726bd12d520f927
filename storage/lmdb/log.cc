#include "log.h"

#include <algorithm>

#include "copy_message.h"
#include "counters.h"
#include "groups.h"
#include "keys.h"
#include "lmdb_push.h"
#include "lmdb_records.h"
#include "lmdb_replace.h"
#include "append_rules.h"
#include "body_rules.h"
#include "group_rules.h"
#include "store.pb.h"

namespace courier::storage {
namespace {

using courier::store::v1::Body;
using courier::v1::Message;

// Expired entries one pull may step over beyond its limit.
constexpr uint64_t kMaxSkippedPerPull = 10000;

// Writes every copy, the body and the dedup record of a checked append.
void WriteAppend(Txn& txn, const Tables& t, BodySeq& seqs, const AppendRequest& r,
                 const std::vector<std::string>& receivers, Original* original, AppendResult* out) {
  const int32_t user_offset = Increment(txn, t.convs, r.conversation);
  const int32_t sender_offset = Increment(txn, t.heads, r.sender);
  const uint64_t seq = seqs.Next(txn, t);
  Body body = NewBody(r, user_offset, sender_offset, receivers.size());
  keys::CopyRecord copy;
  copy.seq = seq;
  copy.received = r.message.signal_ack_state().received();
  copy.read = r.message.signal_ack_state().read();
  out->receivers.reserve(receivers.size());
  out->receiver_copies.reserve(receivers.size());
  for (const auto& u : receivers) {
    copy.offset = Increment(txn, t.heads, u);
    copy.device = false;
    txn.Put(t.copies, u, keys::EncodeCopy(copy), MDB_APPENDDUP);
    if (r.expires_ms > 0) txn.Put(t.expiry, keys::ExpiryKey(r.expires_ms, seq, copy.offset, u), "");
    const int32_t undelivered = Increment(txn, t.undelivered, u);
    if (r.push) {
      WriteDuePushes(txn, {t.push_regs, t.push_due}, u, copy.offset, body.message(), undelivered, r.push_payload,
                     &out->pushes);
    }
    out->receivers.push_back(u);
    out->receiver_copies.push_back(MessageOfCopy(body, copy));
  }
  copy.offset = sender_offset;
  copy.device = true;
  txn.Put(t.copies, r.sender, keys::EncodeCopy(copy), MDB_APPENDDUP);
  txn.Put(t.bodies, keys::BodyKey(seq), body.SerializeAsString(), MDB_APPEND);
  txn.Put(t.dedup, keys::DedupKey(r.sender, r.message.id()), keys::EncodeCounter(sender_offset));
  if (original) ApplyReplace(txn, t.bodies, *original, r.message, seq);
  out->device_copy = MessageOfCopy(std::move(*body.mutable_message()), copy);  // body is done with
}

}  // namespace

uint64_t BodySeq::Next(const Txn& txn, const Tables& t) {
  if (!last_) {
    last_ = 0;
    if (auto v = txn.Get(t.meta, kBodySeqKey)) {
      auto cur = keys::DecodeSeq(*v);
      if (!cur) throw LmdbError(MDB_CORRUPTED, "body sequence has a bad length");
      last_ = *cur;
    }
  }
  if (*last_ >= keys::kMaxSeq) throw LmdbError(MDB_BAD_VALSIZE, "body sequence exhausted");
  return ++*last_;
}

void BodySeq::Save(Txn& txn, const Tables& t) const {
  if (last_) txn.Put(t.meta, kBodySeqKey, keys::EncodeSeq(*last_));
}

std::optional<Message> FindSent(const Txn& txn, const Tables& t, const std::string& sender, const std::string& id) {
  auto v = txn.Get(t.dedup, keys::DedupKey(sender, id));
  if (!v) return std::nullopt;
  auto offset = keys::DecodeCounter(*v);
  auto copy = offset ? ReadCopy(txn, t.copies, sender, *offset) : std::nullopt;
  if (!copy) throw LmdbError(MDB_CORRUPTED, "dedup record points at no entry");
  return MessageOfCopy(ReadBody(txn, t.bodies, copy->seq), *copy);
}

Status Append(Txn& txn, const Tables& t, BodySeq& seq, const AppendRequest& r, AppendResult* out) {
  if (Status s = CheckAppendNames(r, MaxKeySize(txn)); !s.ok()) return s;
  if (auto sent = FindSent(txn, t, r.sender, r.message.id())) {
    out->duplicate = true;
    out->device_copy = std::move(*sent);
    return Status::Ok();
  }
  const std::vector<std::string>* receivers = &r.receivers;
  std::vector<std::string> members;  // of r.group, the sender left out
  if (!r.group.empty()) {
    courier::store::v1::Group group;
    Status s = GroupOfMember(txn, t, r.group, r.sender, &group);
    if (!s.ok()) return s;
    members = OtherMembers(group, r.sender);
    receivers = &members;
  }
  Original original;
  const bool replace = !r.message.replaces().empty();
  if (replace) {
    out->refused = ReplacedKeyFits(r, MaxKeySize(txn)) ? FindOriginal(txn, t.dedup, t.copies, t.bodies, r, &original)
                                                       : ReplaceRefusal::kUnknownOriginal;
    if (out->refused != ReplaceRefusal::kNone) return Status::Ok();
  }
  Status s = CheckReceivers(r, *receivers, MaxKeySize(txn),
                            [&](const std::string& u) { return ReadCounter(txn, t.undelivered, u); });
  if (!s.ok()) return s;
  WriteAppend(txn, t, seq, r, *receivers, replace ? &original : nullptr, out);
  return Status::Ok();
}

Status Pull(const Txn& txn, const Tables& t, const PullRequest& r, PullResult* out) {
  if (!CursorNamesFit(r.user, r.device, MaxKeySize(txn))) {
    return Status::Invalid("names too long for the store's keys");
  }
  out->head = ReadCounter(txn, t.heads, r.user);
  int32_t after = r.after >= 0 ? r.after : ReadCounter(txn, t.cursors, keys::CursorKey(r.user, r.device));
  out->reached = std::min(after, out->head);
  if (after >= out->head || r.limit == 0) return Status::Ok();
  Cursor cur(txn, t.copies);
  // Expired entries are skipped but still cost a read: bound the walk.
  const uint64_t max_scan = uint64_t{r.limit} + kMaxSkippedPerPull;
  uint64_t scanned = 0;
  bool stopped_early = false;
  for (bool ok = cur.SeekDup(r.user, keys::CopyProbe(after + 1)); ok; ok = cur.NextDup()) {
    if (out->entries.size() >= r.limit || scanned >= max_scan) {
      stopped_early = true;
      break;
    }
    ++scanned;
    const auto copy = DecodeCopyOrThrow(cur.value());
    out->reached = copy.offset;
    if (!copy.received && copy.expired) continue;
    Body body = ReadBody(txn, t.bodies, copy.seq);
    if (!copy.received && body.expires_ms() > 0 && body.expires_ms() <= r.now_ms) continue;
    out->entries.push_back(MessageOfCopy(body, copy));
  }
  if (!stopped_early) out->reached = out->head;  // nothing left after what was seen
  return Status::Ok();
}

}  // namespace courier::storage
