#include "store_stats.h"

#include "lmdb_reader.h"

namespace courier::bench {

double BodyLeafFill(const storage::MessageSpace& space) {
  const auto& b = space.bodies;
  if (b.size.leaf_pages == 0) return 0;
  const double used = double(b.key_bytes + b.value_bytes) + double(b.records) * (8 + 2);
  return used / (double(b.size.leaf_pages) * double(b.size.page_size - 16));
}

double PageBytes(const storage::TableSpace& t) {
  return double((t.size.leaf_pages + t.size.branch_pages + t.size.overflow_pages) * t.size.page_size);
}

bool ScanStore(const std::string& dir, storage::MessageSpace* out, std::string* error) {
  std::unique_ptr<storage::Reader> reader;
  storage::Status s = storage::OpenLmdbReader(dir, &reader);
  if (s.ok()) s = reader->ScanMessageSpace(out);
  if (!s.ok()) {
    *error = "cannot read the store: " + s.message();
    return false;
  }
  return true;
}

}  // namespace courier::bench
