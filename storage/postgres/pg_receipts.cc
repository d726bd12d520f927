// Delivery receipts, like storage/lmdb/receipts.cc: one read (the copy, its
// body and the sender's peer copy), then writes that nothing waits for.
#include "pg_ops.h"
#include "receipt_rules.h"

namespace courier::storage {
namespace {

using courier::store::v1::Body;
using courier::v1::Message;

void WriteFlags(Batch& b, const std::string& user, const CopyRow& c, bool leave_expiry) {
  b.Write(
      "UPDATE courier_copies SET received = $3, read = $4, expiry_at = CASE WHEN $5 THEN NULL ELSE expiry_at END"
      " WHERE usr = $1 AND off = $2",
      Params().Bytes(user).Int4(c.offset).Bool(c.received).Bool(c.read).Bool(leave_expiry));
}

// The sender's copy of a RECEIVER copy's body, as the receipt query found it.
struct Peer {
  bool found = false;
  CopyRow copy;
};

// Brings the sender's copy up to date: a 1:1 message takes the receipt's
// flags, a group message counts members and takes a flag once every member
// has it.
void UpdatePeer(Batch& b, const ReceiptRequest& r, int64_t seq, Body& body, Peer& peer, const AckChange& change,
                ReceiptResult* out) {
  const std::string& sender = SenderOf(body);
  if (sender.empty()) return;
  out->peer_user = sender;
  if (!peer.found || peer.copy.seq != seq) return;
  Message peer_message = MessageOfCopy(body.message(), peer.copy);
  const PeerWrites w = UpdatePeerState(body, &peer_message, r, change, out);
  if (w.body) {
    b.Write("UPDATE courier_bodies SET body = $2 WHERE seq = $1", Params().Int8(seq).Bytes(body.SerializeAsString()));
  }
  if (w.peer) {
    peer.copy.received = peer_message.signal_ack_state().received();
    peer.copy.read = peer_message.signal_ack_state().read();
    WriteFlags(b, sender, peer.copy, false);
  }
  out->peer = std::move(peer_message);
}

}  // namespace

Status Receipt(Batch& b, const ReceiptRequest& r, ReceiptResult* out) {
  if (!CursorNamesFit(r.user, r.device, kMaxKey)) { return Status::Invalid("names too long for the store's keys"); }
  PgResult row;
  if (r.offset > 0) {
    row = b.Read(
        "SELECT c.seq, c.device, c.received, c.read, b.body, p.seq, p.device, p.received, p.read"
        " FROM courier_copies c LEFT JOIN courier_bodies b ON b.seq = c.seq"
        " LEFT JOIN courier_copies p ON p.usr = b.sender AND p.off = b.sender_off"
        " WHERE c.usr = $1 AND c.off = $2",
        Params().Bytes(r.user).Int4(r.offset));
  }
  if (row.rows() == 0) return Status::NotFound("no entry at offset " + std::to_string(r.offset));
  if (row.null(0, 4)) throw PgError("copy points at no body", "");
  CopyRow copy{.offset = r.offset,
               .seq = row.integer(0, 0),
               .device = row.boolean(0, 1),
               .received = row.boolean(0, 2),
               .read = row.boolean(0, 3),
               .expired = false};
  Peer peer;
  if (!row.null(0, 5)) {
    peer.found = true;
    peer.copy = CopyRow{.offset = 0,
                        .seq = row.integer(0, 5),
                        .device = row.boolean(0, 6),
                        .received = row.boolean(0, 7),
                        .read = row.boolean(0, 8),
                        .expired = false};
  }
  b.Write(
      "INSERT INTO courier_cursors (usr, device, cur) VALUES ($1, $2, $3) ON CONFLICT (usr, device)"
      " DO UPDATE SET cur = EXCLUDED.cur WHERE courier_cursors.cur < EXCLUDED.cur",
      Params().Bytes(r.user).Bytes(r.device).Int4(r.offset));
  Body body = ParseBody(row.bytes(0, 4));
  peer.copy.offset = body.sender_offset();
  Message entry = MessageOfCopy(body.message(), copy);
  if (!copy.device) {  // a receipt on a user's own DEVICE copy moves the cursor only
    const AckChange change = ApplyAck(&entry, r.received, r.read);
    out->changed = change.changed;
    if (change.changed) {
      if (change.newly_received) {
        HeadRow& h = b.Head(r.user);
        if (h.undelivered > 0) {
          --h.undelivered;
          h.dirty = true;
        }
        ClearDuePushes(b, r.user, r.offset);
      }
      copy.received = entry.signal_ack_state().received();
      copy.read = entry.signal_ack_state().read();
      WriteFlags(b, r.user, copy, change.newly_received);
    }
    UpdatePeer(b, r, copy.seq, body, peer, change, out);
  }
  out->entry = std::move(entry);
  return Status::Ok();
}

}  // namespace courier::storage
