// Append (dedup, group fan-out, expiry index, due pushes, edit and recall)
// and pull, like storage/lmdb/log.cc.
#include <algorithm>
#include <optional>

#include "group_rules.h"
#include "pg_ops.h"

namespace courier::storage {
namespace {

using courier::store::v1::Body;
using courier::v1::Message;

// Expired entries one pull may step over beyond its limit.
constexpr uint64_t kMaxSkippedPerPull = 10000;

struct Original {
  int64_t seq = 0;
  Body body;
};

// The sender's copy of (sender, id), when it is stored and not trimmed.
std::optional<Message> FindSent(Batch& b, const std::string& sender, const std::string& id) {
  PgResult r = b.Read(
      "SELECT c.off, c.device, c.received, c.read, b.body FROM courier_copies c"
      " LEFT JOIN courier_bodies b ON b.seq = c.seq WHERE c.usr = $1 AND c.dedup_id = $2",
      Params().Bytes(sender).Bytes(id));
  if (r.rows() == 0) return std::nullopt;
  if (r.null(0, 4)) throw PgError("copy points at no body", "");
  CopyRow c{.offset = static_cast<int32_t>(r.integer(0, 0)),
            .seq = 0,
            .device = r.boolean(0, 1),
            .received = r.boolean(0, 2),
            .read = r.boolean(0, 3),
            .expired = false};
  return MessageOfCopy(std::move(*ParseBody(r.bytes(0, 4)).mutable_message()), c);
}

ReplaceRefusal FindOriginal(Batch& b, const AppendRequest& r, Original* out) {
  PgResult row = b.Read(
      "SELECT c.seq, b.body FROM courier_copies c LEFT JOIN courier_bodies b ON b.seq = c.seq"
      " WHERE c.usr = $1 AND c.dedup_id = $2",
      Params().Bytes(r.sender).Bytes(r.message.replaces()));
  if (row.rows() == 0) return ReplaceRefusal::kUnknownOriginal;
  if (row.null(0, 1)) throw PgError("copy points at no body", "");
  out->seq = row.integer(0, 0);
  out->body = ParseBody(row.bytes(0, 1));
  return CheckOriginal(out->body.message(), r);
}

void WriteBody(Batch& b, int64_t seq, const Body& body) {
  b.Write("UPDATE courier_bodies SET body = $2 WHERE seq = $1", Params().Int8(seq).Bytes(body.SerializeAsString()));
}

void ApplyReplace(Batch& b, Original& original, const Message& m, int64_t entry_seq) {
  if (original.body.edits_size() > 0) {
    PgArray seqs(kInt8);
    for (uint64_t s : original.body.edits()) seqs.Int8(static_cast<int64_t>(s));
    PgResult rows = b.Read("SELECT seq, body FROM courier_bodies WHERE seq = ANY($1)", Params().Array(seqs));
    std::map<int64_t, Body> found;
    for (int i = 0; i < rows.rows(); ++i) found[rows.integer(i, 0)] = ParseBody(rows.bytes(i, 1));
    for (uint64_t s : original.body.edits()) {
      auto it = found.find(static_cast<int64_t>(s));
      if (it == found.end()) continue;  // retention removed it
      ReplaceContent(it->second.mutable_message(), m);
      WriteBody(b, it->first, it->second);
    }
  }
  ReplaceContent(original.body.mutable_message(), m);
  if (!m.recall()) original.body.add_edits(static_cast<uint64_t>(entry_seq));
  WriteBody(b, original.seq, original.body);
}

void WriteAppend(Batch& b, const AppendRequest& r, const std::vector<std::string>& receivers, Original* original,
                 AppendResult* out) {
  const int32_t user_offset = b.NextUserOffset(r.conversation);
  const int32_t sender_offset = b.NextOffset(r.sender);
  const int64_t seq = b.NextSeq();
  Body body = NewBody(r, user_offset, sender_offset, receivers.size());
  CopyRow copy{.offset = 0,
               .seq = seq,
               .device = false,
               .received = r.message.signal_ack_state().received(),
               .read = r.message.signal_ack_state().read(),
               .expired = false};
  out->receivers.reserve(receivers.size());
  out->receiver_copies.reserve(receivers.size());
  for (const auto& u : receivers) {
    copy.offset = b.NextOffset(u);
    copy.device = false;
    b.AddCopy({u, copy, std::nullopt, r.expires_ms > 0 ? r.expires_ms : 0});
    HeadRow& h = b.Head(u);
    if (h.undelivered == INT32_MAX) throw PgError("undelivered counter exhausted", "");
    ++h.undelivered;
    h.dirty = true;
    if (r.push) WriteDuePushes(b, u, copy.offset, body.message(), h.undelivered, r.push_payload, &out->pushes);
    out->receivers.push_back(u);
    out->receiver_copies.push_back(MessageOfCopy(body.message(), copy));
  }
  copy.offset = sender_offset;
  copy.device = true;
  b.AddCopy({r.sender, copy, r.message.id(), 0});
  b.AddBody({seq, body.SerializeAsString(), static_cast<int32_t>(1 + receivers.size()), r.sender, sender_offset,
             body.expires_ms(), body.message().server_timestamp()});
  b.sent.emplace(r.sender, r.message.id());
  if (original) ApplyReplace(b, *original, r.message, seq);
  out->device_copy = MessageOfCopy(std::move(*body.mutable_message()), copy);
}

}  // namespace

Status Append(Batch& b, const AppendRequest& r, AppendResult* out) {
  if (Status s = CheckAppendNames(r, kMaxKey); !s.ok()) return s;
  if (b.sent.count({r.sender, r.message.id()})) {
    if (auto sent = FindSent(b, r.sender, r.message.id())) {
      out->duplicate = true;
      out->device_copy = std::move(*sent);
      return Status::Ok();
    }
  }
  const std::vector<std::string>* receivers = &r.receivers;
  std::vector<std::string> members;  // of r.group, the sender left out
  if (!r.group.empty()) {
    const auto& group = b.Group(r.group);
    if (Status s = CheckMember(group ? &*group : nullptr, r.group, r.sender); !s.ok()) return s;
    members = OtherMembers(*group, r.sender);
    receivers = &members;
  }
  Original original;
  const bool replace = !r.message.replaces().empty();
  if (replace) {
    out->refused = ReplacedKeyFits(r, kMaxKey) ? FindOriginal(b, r, &original) : ReplaceRefusal::kUnknownOriginal;
    if (out->refused != ReplaceRefusal::kNone) return Status::Ok();
  }
  Status s = CheckReceivers(r, *receivers, kMaxKey, [&](const std::string& u) { return b.PeekHead(u).undelivered; });
  if (!s.ok()) return s;
  WriteAppend(b, r, *receivers, replace ? &original : nullptr, out);
  return Status::Ok();
}

Status Pull(Batch& b, const PullRequest& r, PullResult* out) {
  if (!CursorNamesFit(r.user, r.device, kMaxKey)) { return Status::Invalid("names too long for the store's keys"); }
  out->head = b.PeekHead(r.user).head;
  int32_t after = r.after;
  if (after < 0) {
    PgResult c = b.Read("SELECT cur FROM courier_cursors WHERE usr = $1 AND device = $2",
                        Params().Bytes(r.user).Bytes(r.device));
    after = c.rows() > 0 ? static_cast<int32_t>(c.integer(0, 0)) : 0;
  }
  out->reached = std::min(after, out->head);
  if (after >= out->head || r.limit == 0) return Status::Ok();
  // Expired entries are skipped but still cost a read: bound the walk.
  const uint64_t max_scan = uint64_t{r.limit} + kMaxSkippedPerPull;
  uint64_t scanned = 0;
  bool stopped_early = false;
  int32_t pos = after;
  for (;;) {
    const uint64_t want = std::min<uint64_t>(r.limit - out->entries.size(), max_scan - scanned) + 1;
    // The body of a copy the pull skips is not sent.
    PgResult rows = b.Read(
        "SELECT c.off, c.device, c.received, c.read, CASE WHEN NOT c.received AND (c.expired OR"
        " (b.expires_ms > 0 AND b.expires_ms <= $3)) THEN NULL ELSE b.body END"
        " FROM courier_copies c JOIN courier_bodies b ON b.seq = c.seq"
        " WHERE c.usr = $1 AND c.off > $2 ORDER BY c.off LIMIT $4",
        Params().Bytes(r.user).Int4(pos).Int8(r.now_ms).Int8(static_cast<int64_t>(want)));
    for (int i = 0; i < rows.rows(); ++i) {
      if (out->entries.size() >= r.limit || scanned >= max_scan) {
        stopped_early = true;
        break;
      }
      ++scanned;
      pos = out->reached = static_cast<int32_t>(rows.integer(i, 0));
      if (rows.null(i, 4)) continue;
      CopyRow c{.offset = pos,
                .seq = 0,
                .device = rows.boolean(i, 1),
                .received = rows.boolean(i, 2),
                .read = rows.boolean(i, 3),
                .expired = false};
      out->entries.push_back(MessageOfCopy(std::move(*ParseBody(rows.bytes(i, 4)).mutable_message()), c));
    }
    if (stopped_early || static_cast<uint64_t>(rows.rows()) < want) break;
  }
  if (!stopped_early) out->reached = out->head;  // nothing left after what was seen
  return Status::Ok();
}

}  // namespace courier::storage
