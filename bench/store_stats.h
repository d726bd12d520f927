// Reads a Courier LMDB store (read-only, the broker stopped) to explain its
// size: how many bytes of each log record are payload, record overhead, key,
// and how full the B-tree's leaf pages are.
#pragma once

#include <cstdint>
#include <string>

namespace courier::bench {

struct LogStats {
  int64_t records = 0;
  int64_t key_bytes = 0;
  int64_t value_bytes = 0;
  int64_t payload_bytes = 0;   // Entry.message.payload, over the records that parsed
  int64_t parsed = 0;          // records that parsed as courier.store.v1.Entry
  int64_t leaf_pages = 0;
  int64_t overflow_pages = 0;
  int64_t branch_pages = 0;
  int page_size = 4096;
  // Bytes of leaf pages the records occupy (key + value + LMDB's 8-byte node
  // header + 2-byte slot) over the bytes of the leaf pages.
  double leaf_fill() const;
};

// Scans the `log` table of the store in dir. False with *error on failure.
bool ScanLog(const std::string& dir, LogStats* out, std::string* error);

}  // namespace courier::bench
