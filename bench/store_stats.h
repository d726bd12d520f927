// Reads a Courier store through storage's read-only Reader (the LMDB engine
// today; safe while a broker writes) to explain its
// size (schema version 2, docs/architecture.md): how many bytes of each
// message body are payload and record overhead, how big a copy record is,
// and how full the B-trees' leaf pages are.
#pragma once

#include <cstdint>
#include <string>

namespace courier::bench {

struct TableScan {
  int64_t records = 0;
  int64_t key_bytes = 0;  // for `copies`: the user key, counted once per user
  int64_t value_bytes = 0;
  int64_t leaf_pages = 0;
  int64_t overflow_pages = 0;
  int64_t branch_pages = 0;
  int page_size = 4096;
};

struct StoreScan {
  TableScan bodies;           // one record per message: courier.store.v1.Body
  TableScan copies;           // one fixed-size value per stored copy, keyed by user
  int64_t payload_bytes = 0;  // Body.message.payload, over the bodies that parsed
  int64_t parsed = 0;         // bodies sampled (every 16th) that parsed as courier.store.v1.Body
  // Bytes of the bodies' leaf pages the records occupy (key + value +
  // LMDB's 8-byte node header + 2-byte slot) over the bytes of those pages.
  double body_leaf_fill() const;
};

// Scans the message bodies and copies of the store in dir. False with
// *error on failure.
bool ScanStore(const std::string& dir, StoreScan* out, std::string* error);

}  // namespace courier::bench
