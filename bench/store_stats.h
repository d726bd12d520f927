// Reads a Courier store through storage's read-only Reader (the LMDB engine
// today; safe while a broker writes) to explain its size (schema version 2,
// docs/architecture.md): how many bytes of each message body are payload
// and record overhead, how big a copy record is, and how full the B-trees'
// leaf pages are. The figures are storage::MessageSpace (reader.h).
#pragma once

#include <string>

#include "reader.h"

namespace courier::bench {

// Scans the message bodies and copies of the store in dir. False with
// *error on failure.
bool ScanStore(const std::string& dir, storage::MessageSpace* out, std::string* error);

// Bytes of the bodies' leaf pages the records occupy (key + value + LMDB's
// 8-byte node header + 2-byte slot) over the bytes of those pages.
double BodyLeafFill(const storage::MessageSpace& space);

// Bytes of a table's pages: leaf, branch and overflow.
double PageBytes(const storage::TableSpace& t);

}  // namespace courier::bench
