#include "receipt_rules.h"

namespace courier::storage {

using courier::store::v1::Body;
using courier::v1::Message;

bool MergeAck(Message* m, bool received, bool read) {
  auto* s = m->mutable_signal_ack_state();
  bool changed = (received && !s->received()) || (read && !s->read());
  if (received) s->set_received(true);
  if (read) s->set_read(true);
  return changed;
}

AckChange ApplyAck(Message* entry, bool received, bool read) {
  const auto before = entry->signal_ack_state();
  AckChange c;
  c.changed = MergeAck(entry, received, read);
  const auto& after = entry->signal_ack_state();
  c.newly_received = !before.received() && after.received();
  c.newly_read = !before.read() && after.read();
  return c;
}

PeerWrites UpdatePeerState(Body& body, Message* peer_message, const ReceiptRequest& r, const AckChange& change,
                           ReceiptResult* out) {
  PeerWrites w;
  if (body.recipients() > 0) {  // group: count members, full state when all have it
    if (change.newly_received) body.set_received_count(body.received_count() + 1);
    if (change.newly_read) body.set_read_count(body.read_count() + 1);
    w.body = change.newly_received || change.newly_read;
    w.peer = MergeAck(peer_message, body.received_count() >= body.recipients(), body.read_count() >= body.recipients());
    out->recipients = body.recipients();
    out->received_count = body.received_count();
    out->read_count = body.read_count();
  } else {
    w.peer = MergeAck(peer_message, r.received, r.read);
  }
  return w;
}

}  // namespace courier::storage
