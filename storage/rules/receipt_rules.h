// Engine-neutral rules of a delivery receipt: how its flags merge into a
// copy, and what it does to the sender's copy of the same message (1:1: the
// receipt's flags; group: a count per flag, and the flag once every member
// has it).
//
// Pure functions, no I/O, any thread; the engines read and write the
// records around them.
#pragma once

#include "requests.h"
#include "store.pb.h"

namespace courier::storage {

// Sets the requested flags on `m`; true when one of them was not set before.
bool MergeAck(courier::v1::Message* m, bool received, bool read);

// What a receipt changed on the receiver's own copy.
struct AckChange {
  bool changed = false;  // some flag was newly set
  bool newly_received = false;
  bool newly_read = false;
};
AckChange ApplyAck(courier::v1::Message* entry, bool received, bool read);

// What the engine must write after UpdatePeerState.
struct PeerWrites {
  bool body = false;  // the body's group counts changed
  bool peer = false;  // the sender's copy's flags changed (from *peer_message)
};

// Brings `body` and the sender's copy `peer_message` up to date for a
// receipt `r` whose receiver copy changed by `change`, and fills the peer's
// group counts in *out. The engine writes what the result names.
PeerWrites UpdatePeerState(courier::store::v1::Body& body, courier::v1::Message* peer_message, const ReceiptRequest& r,
                           const AckChange& change, ReceiptResult* out);

}  // namespace courier::storage
