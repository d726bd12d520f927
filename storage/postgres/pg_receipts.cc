// Delivery receipts, like storage/lmdb/receipts.cc: one read (the copy, its
// body and the sender's peer copy), then writes that nothing waits for.
#include "pg_ops.h"

namespace courier::storage {
namespace {

using courier::store::v1::Body;
using courier::v1::Message;

// Sets the requested flags; returns true when one of them was not set before.
bool MergeAck(Message* m, bool received, bool read) {
  auto* s = m->mutable_signal_ack_state();
  bool changed = (received && !s->received()) || (read && !s->read());
  if (received) s->set_received(true);
  if (read) s->set_read(true);
  return changed;
}

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
void UpdatePeer(Batch& b, const ReceiptRequest& r, int64_t seq, Body& body, Peer& peer, bool newly_received,
                bool newly_read, ReceiptResult* out) {
  const std::string& sender = BodySender(body);
  if (sender.empty()) return;
  out->peer_user = sender;
  if (!peer.found || peer.copy.seq != seq) return;
  Message peer_message = MessageOfCopy(body.message(), peer.copy);
  bool write = false;
  if (body.recipients() > 0) {
    if (newly_received) body.set_received_count(body.received_count() + 1);
    if (newly_read) body.set_read_count(body.read_count() + 1);
    if (newly_received || newly_read) {
      b.Write("UPDATE courier_bodies SET body = $2 WHERE seq = $1", Params().Int8(seq).Bytes(body.SerializeAsString()));
    }
    write = MergeAck(&peer_message, body.received_count() >= body.recipients(), body.read_count() >= body.recipients());
    out->recipients = body.recipients();
    out->received_count = body.received_count();
    out->read_count = body.read_count();
  } else {
    write = MergeAck(&peer_message, r.received, r.read);
  }
  if (write) {
    peer.copy.received = peer_message.signal_ack_state().received();
    peer.copy.read = peer_message.signal_ack_state().read();
    WriteFlags(b, sender, peer.copy, false);
  }
  out->peer = std::move(peer_message);
}

}  // namespace

Status Receipt(Batch& b, const ReceiptRequest& r, ReceiptResult* out) {
  if (r.user.size() + 1 + r.device.size() > kMaxKey || r.user.size() + 5 > kMaxKey) {
    return Status::Invalid("names too long for the store's keys");
  }
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
    const auto before = entry.signal_ack_state();
    out->changed = MergeAck(&entry, r.received, r.read);
    const auto& after = entry.signal_ack_state();
    const bool newly_received = !before.received() && after.received();
    const bool newly_read = !before.read() && after.read();
    if (out->changed) {
      if (newly_received) {
        HeadRow& h = b.Head(r.user);
        if (h.undelivered > 0) {
          --h.undelivered;
          h.dirty = true;
        }
        ClearDuePushes(b, r.user, r.offset);
      }
      copy.received = after.received();
      copy.read = after.read();
      WriteFlags(b, r.user, copy, newly_received);
    }
    UpdatePeer(b, r, copy.seq, body, peer, newly_received, newly_read, out);
  }
  out->entry = std::move(entry);
  return Status::Ok();
}

}  // namespace courier::storage
