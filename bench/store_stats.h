// Reads a Courier store through storage's read-only Reader (the LMDB engine
// today; safe while a broker writes) to explain its size (schema version 2,
// docs/architecture.md): the pages of each table, of the sub-databases and
// of the freelist, how many bytes of each message body are payload and
// record overhead, how big a copy record is, and how full the B-trees' leaf
// pages are. The figures are storage::PageSpace and storage::MessageSpace
// (reader.h).
#pragma once

#include <cstdint>
#include <string>

#include "reader.h"

namespace courier::bench {

// Scans the message bodies and copies of the store in dir. False with
// *error on failure.
bool ScanStore(const std::string& dir, storage::MessageSpace* out, std::string* error);

// Reads the pages of the store in dir and its number of stored copies, from
// one snapshot. False with *error on failure.
bool ScanStorePages(const std::string& dir, storage::PageSpace* out, int64_t* stored_copies, std::string* error);

// Bytes of the bodies' leaf pages the records occupy (key + value + LMDB's
// 8-byte node header + 2-byte slot) over the bytes of those pages.
double BodyLeafFill(const storage::MessageSpace& space);

// A table's pages: leaf, branch and overflow; and their bytes.
int64_t Pages(const storage::TableSize& t);
double PageBytes(const storage::TableSize& t);

}  // namespace courier::bench
