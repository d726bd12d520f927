// How a stored copy becomes the Message a device receives (schema 2): the
// body's message with the copy's own offset, type and receipt flags.
// Pure functions; shared by LmdbStore and LmdbReader.
#pragma once

#include <string>

#include "keys.h"
#include "store.pb.h"

namespace courier::storage {

// The sender of a body's message: its DEVICE copy is in this user's log.
const std::string& SenderOf(const courier::store::v1::Body& body);

// The copy as delivered.
courier::v1::Message MessageOfCopy(const courier::store::v1::Body& body, const keys::CopyRecord& copy);
// The same from the body's message alone, taken by value so that a caller
// done with the body can move its message in instead of copying it.
courier::v1::Message MessageOfCopy(courier::v1::Message stored, const keys::CopyRecord& copy);

}  // namespace courier::storage
