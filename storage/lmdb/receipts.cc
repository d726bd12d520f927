#include "receipts.h"

#include "copy_message.h"
#include "counters.h"
#include "keys.h"
#include "lmdb_push.h"
#include "lmdb_records.h"
#include "store.pb.h"

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

// Brings the sender's copy of a RECEIVER copy's body up to date: a 1:1
// message takes the receipt's flags, a group message counts members and
// takes a flag once every member has it.
void UpdatePeer(Txn& txn, const Tables& t, const ReceiptRequest& r, uint64_t seq, Body& body, bool newly_received,
                bool newly_read, ReceiptResult* out) {
  const std::string& sender = SenderOf(body);
  if (sender.empty()) return;
  out->peer_user = sender;
  auto peer = ReadCopy(txn, t.copies, sender, body.sender_offset());
  if (!peer || peer->seq != seq) return;
  Message peer_message = MessageOfCopy(body, *peer);
  bool write = false;
  if (body.recipients() > 0) {  // group: count members, full state when all have it
    if (newly_received) body.set_received_count(body.received_count() + 1);
    if (newly_read) body.set_read_count(body.read_count() + 1);
    if (newly_received || newly_read) txn.Put(t.bodies, keys::BodyKey(seq), body.SerializeAsString());
    write = MergeAck(&peer_message, body.received_count() >= body.recipients(), body.read_count() >= body.recipients());
    out->recipients = body.recipients();
    out->received_count = body.received_count();
    out->read_count = body.read_count();
  } else {
    write = MergeAck(&peer_message, r.received, r.read);
  }
  if (write) {
    peer->received = peer_message.signal_ack_state().received();
    peer->read = peer_message.signal_ack_state().read();
    RewriteCopy(txn, t.copies, sender, *peer);
  }
  out->peer = std::move(peer_message);
}

}  // namespace

Status Receipt(Txn& txn, const Tables& t, const ReceiptRequest& r, ReceiptResult* out) {
  if (!KeysFit(txn, {r.user.size() + 1 + r.device.size(), r.user.size() + 5})) {
    return Status::Invalid("names too long for the store's keys");
  }
  auto copy = r.offset > 0 ? ReadCopy(txn, t.copies, r.user, r.offset) : std::nullopt;
  if (!copy) return Status::NotFound("no entry at offset " + std::to_string(r.offset));
  const std::string ckey = keys::CursorKey(r.user, r.device);
  if (ReadCounter(txn, t.cursors, ckey) < r.offset) txn.Put(t.cursors, ckey, keys::EncodeCounter(r.offset));
  Body body = ReadBody(txn, t.bodies, copy->seq);
  Message entry = MessageOfCopy(body, *copy);
  if (!copy->device) {  // a receipt on a user's own DEVICE copy moves the cursor only
    const auto before = entry.signal_ack_state();
    out->changed = MergeAck(&entry, r.received, r.read);
    const auto& after = entry.signal_ack_state();
    const bool newly_received = !before.received() && after.received();
    const bool newly_read = !before.read() && after.read();
    if (out->changed) {
      if (newly_received) {
        Decrement(txn, t.undelivered, r.user);
        ClearDuePushes(txn, {t.push_regs, t.push_due}, r.user, r.offset);
        if (body.expires_ms() > 0) {
          txn.Del(t.expiry, keys::ExpiryKey(body.expires_ms(), copy->seq, r.offset, r.user));
        }
      }
      copy->received = after.received();
      copy->read = after.read();
      RewriteCopy(txn, t.copies, r.user, *copy);
    }
    UpdatePeer(txn, t, r, copy->seq, body, newly_received, newly_read, out);
  }
  out->entry = std::move(entry);
  return Status::Ok();
}

}  // namespace courier::storage
