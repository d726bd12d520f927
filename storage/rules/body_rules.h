// Engine-neutral rules over a message's stored body (store.proto): what a new
// body holds, whose log holds its DEVICE copy, how a copy is delivered, and
// how an edit or a recall changes the original.
//
// Pure functions, no I/O, any thread. Both engines (storage/lmdb,
// storage/postgres) call them, so they store and answer alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "requests.h"
#include "store.pb.h"

namespace courier::storage {

// The body of a new message: the request's template with its user_offset,
// stored once for every copy (the sender's and one per receiver).
courier::store::v1::Body NewBody(const AppendRequest& r, int32_t user_offset, int32_t sender_offset, size_t receivers);

// The sender of a body's message: its DEVICE copy is in this user's log.
const std::string& SenderOf(const courier::store::v1::Body& body);

// A copy's own part: its offset in its user's log, its type, its flags.
struct CopyFlags {
  int32_t offset = 0;
  bool device = false;  // the sender's own DEVICE copy, else a RECEIVER copy
  bool received = false;
  bool read = false;
};

// The copy as delivered: the body's message with the copy's offset, type and
// receipt flags. Takes the message by value so a caller done with the body
// can move it in.
courier::v1::Message MessageOfCopy(courier::v1::Message stored, const CopyFlags& copy);

// Why the original of an edit or recall `r` refuses it; kNone when it may be
// replaced.
ReplaceRefusal CheckOriginal(const courier::v1::Message& original, const AppendRequest& r);

// Gives `target` the content of `m` (an edit) or erases it (a recall).
void ReplaceContent(courier::v1::Message* target, const courier::v1::Message& m);

}  // namespace courier::storage
