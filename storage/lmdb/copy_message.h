// How a stored copy record becomes the Message a device receives: the rule
// (storage/rules/body_rules.h) over LMDB's CopyRecord. Pure functions;
// shared by LmdbStore and LmdbReader.
#pragma once

#include <string>

#include "body_rules.h"
#include "keys.h"
#include "store.pb.h"

namespace courier::storage {

// The copy as delivered.
courier::v1::Message MessageOfCopy(const courier::store::v1::Body& body, const keys::CopyRecord& copy);
// The same from the body's message alone, taken by value so that a caller
// done with the body can move its message in instead of copying it.
courier::v1::Message MessageOfCopy(courier::v1::Message stored, const keys::CopyRecord& copy);

}  // namespace courier::storage
