#include "lmdb_records.h"

namespace courier::storage {

using courier::store::v1::Body;

std::optional<Body> FindBody(const Txn& txn, MDB_dbi bodies, uint64_t seq) {
  auto v = txn.Get(bodies, keys::BodyKey(seq));
  if (!v) return std::nullopt;
  Body b;
  if (!b.ParseFromArray(v->data(), static_cast<int>(v->size()))) {
    throw LmdbError(MDB_CORRUPTED, "body does not parse");
  }
  return b;
}

Body ReadBody(const Txn& txn, MDB_dbi bodies, uint64_t seq) {
  auto b = FindBody(txn, bodies, seq);
  if (!b) throw LmdbError(MDB_CORRUPTED, "copy points at no body");
  return std::move(*b);
}

keys::CopyRecord DecodeCopyOrThrow(std::string_view bytes) {
  auto c = keys::DecodeCopy(bytes);
  if (!c) throw LmdbError(MDB_CORRUPTED, "bad copy record");
  return *c;
}

std::optional<keys::CopyRecord> ReadCopy(const Txn& txn, MDB_dbi copies, const std::string& user, int32_t offset) {
  Cursor cur(txn, copies);
  if (!cur.SeekDup(user, keys::CopyProbe(offset))) return std::nullopt;
  auto c = DecodeCopyOrThrow(cur.value());
  if (c.offset != offset) return std::nullopt;
  return c;
}

void RewriteCopy(const Txn& txn, MDB_dbi copies, const std::string& user, const keys::CopyRecord& c) {
  Cursor cur(txn, copies);
  if (!cur.SeekDup(user, keys::CopyProbe(c.offset)) || DecodeCopyOrThrow(cur.value()).offset != c.offset) {
    throw LmdbError(MDB_CORRUPTED, "copy to rewrite is missing");
  }
  cur.PutCurrent(keys::EncodeCopy(c));
}

}  // namespace courier::storage
