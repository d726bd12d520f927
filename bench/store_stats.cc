#include "store_stats.h"

#include "lmdb_reader.h"

namespace courier::bench {

double StoreScan::body_leaf_fill() const {
  const auto& b = bodies;
  if (b.leaf_pages == 0) return 0;
  const double used = double(b.key_bytes + b.value_bytes) + double(b.records) * (8 + 2);
  return used / (double(b.leaf_pages) * double(b.page_size - 16));
}

namespace {

TableScan ScanOf(const storage::TableSpace& t) {
  return TableScan{.records = t.records,
                   .key_bytes = t.key_bytes,
                   .value_bytes = t.value_bytes,
                   .leaf_pages = t.size.leaf_pages,
                   .overflow_pages = t.size.overflow_pages,
                   .branch_pages = t.size.branch_pages,
                   .page_size = t.size.page_size};
}

}  // namespace

bool ScanStore(const std::string& dir, StoreScan* out, std::string* error) {
  std::unique_ptr<storage::Reader> reader;
  storage::Status s = storage::OpenLmdbReader(dir, &reader);
  storage::MessageSpace space;
  if (s.ok()) s = reader->ScanMessageSpace(&space);
  if (!s.ok()) {
    *error = "cannot read the store: " + s.message();
    return false;
  }
  out->bodies = ScanOf(space.bodies);
  out->copies = ScanOf(space.copies);
  out->payload_bytes = space.payload_bytes;
  out->parsed = space.sampled;
  return true;
}

}  // namespace courier::bench
