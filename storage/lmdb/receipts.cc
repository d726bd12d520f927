#include "receipts.h"

#include "copy_message.h"
#include "append_rules.h"
#include "counters.h"
#include "keys.h"
#include "lmdb_push.h"
#include "lmdb_records.h"
#include "receipt_rules.h"
#include "store.pb.h"

namespace courier::storage {
namespace {

using courier::store::v1::Body;
using courier::v1::Message;

// Brings the sender's copy of a RECEIVER copy's body up to date: a 1:1
// message takes the receipt's flags, a group message counts members and
// takes a flag once every member has it.
void UpdatePeer(Txn& txn, const Tables& t, const ReceiptRequest& r, uint64_t seq, Body& body, const AckChange& change,
                ReceiptResult* out) {
  const std::string& sender = SenderOf(body);
  if (sender.empty()) return;
  out->peer_user = sender;
  auto peer = ReadCopy(txn, t.copies, sender, body.sender_offset());
  if (!peer || peer->seq != seq) return;
  Message peer_message = MessageOfCopy(body, *peer);
  const PeerWrites w = UpdatePeerState(body, &peer_message, r, change, out);
  if (w.body) txn.Put(t.bodies, keys::BodyKey(seq), body.SerializeAsString());
  if (w.peer) {
    peer->received = peer_message.signal_ack_state().received();
    peer->read = peer_message.signal_ack_state().read();
    RewriteCopy(txn, t.copies, sender, *peer);
  }
  out->peer = std::move(peer_message);
}

}  // namespace

Status Receipt(Txn& txn, const Tables& t, const ReceiptRequest& r, ReceiptResult* out) {
  if (!CursorNamesFit(r.user, r.device, MaxKeySize(txn))) {
    return Status::Invalid("names too long for the store's keys");
  }
  auto copy = r.offset > 0 ? ReadCopy(txn, t.copies, r.user, r.offset) : std::nullopt;
  if (!copy) return Status::NotFound("no entry at offset " + std::to_string(r.offset));
  const std::string ckey = keys::CursorKey(r.user, r.device);
  if (ReadCounter(txn, t.cursors, ckey) < r.offset) txn.Put(t.cursors, ckey, keys::EncodeCounter(r.offset));
  Body body = ReadBody(txn, t.bodies, copy->seq);
  Message entry = MessageOfCopy(body, *copy);
  if (!copy->device) {  // a receipt on a user's own DEVICE copy moves the cursor only
    const AckChange change = ApplyAck(&entry, r.received, r.read);
    out->changed = change.changed;
    if (change.changed) {
      if (change.newly_received) {
        Decrement(txn, t.undelivered, r.user);
        ClearDuePushes(txn, {t.push_regs, t.push_due}, r.user, r.offset);
        if (body.expires_ms() > 0) {
          txn.Del(t.expiry, keys::ExpiryKey(body.expires_ms(), copy->seq, r.offset, r.user));
        }
      }
      copy->received = entry.signal_ack_state().received();
      copy->read = entry.signal_ack_state().read();
      RewriteCopy(txn, t.copies, r.user, *copy);
    }
    UpdatePeer(txn, t, r, copy->seq, body, change, out);
  }
  out->entry = std::move(entry);
  return Status::Ok();
}

}  // namespace courier::storage
