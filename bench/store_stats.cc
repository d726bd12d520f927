#include "store_stats.h"

#include <memory>

#include "lmdb_reader.h"

namespace courier::bench {

double BodyLeafFill(const storage::MessageSpace& space) {
  const auto& b = space.bodies;
  if (b.size.leaf_pages == 0) return 0;
  const double used = double(b.key_bytes + b.value_bytes) + double(b.records) * (8 + 2);
  return used / (double(b.size.leaf_pages) * double(b.size.page_size - 16));
}

int64_t Pages(const storage::TableSize& t) { return t.leaf_pages + t.branch_pages + t.overflow_pages; }

double PageBytes(const storage::TableSize& t) { return double(Pages(t) * t.page_size); }

namespace {

// Opens the store in dir and runs scan(reader) -> Status.
template <typename Scan>
bool ReadStore(const std::string& dir, std::string* error, Scan scan) {
  std::unique_ptr<storage::Reader> reader;
  storage::Status s = storage::OpenLmdbReader(dir, &reader);
  if (s.ok()) s = scan(*reader);
  if (!s.ok()) {
    *error = "cannot read the store: " + s.message();
    return false;
  }
  return true;
}

}  // namespace

bool ScanStore(const std::string& dir, storage::MessageSpace* out, std::string* error) {
  return ReadStore(dir, error, [&](storage::Reader& r) { return r.ScanMessageSpace(out); });
}

bool ScanStorePages(const std::string& dir, storage::PageSpace* out, int64_t* stored_copies, std::string* error) {
  return ReadStore(dir, error, [&](storage::Reader& r) {
    *stored_copies = r.StoredCopies();
    return r.ScanPageSpace(out);
  });
}

}  // namespace courier::bench
