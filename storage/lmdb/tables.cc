#include "tables.h"

namespace courier::storage {

Tables OpenTables(const Txn& txn, bool create) {
  auto open = [&](const char* name, unsigned flags) {
    MDB_dbi dbi = kNoTable;
    const int rc = mdb_dbi_open(txn.get(), name, (create ? MDB_CREATE : 0u) | flags, &dbi);
    if (rc == MDB_NOTFOUND && !create) return kNoTable;
    Check(rc, name);
    return dbi;
  };
  constexpr unsigned kDup = MDB_DUPSORT | MDB_DUPFIXED;
  Tables t;
  t.meta = open("meta", 0);
  t.copies = open("copies", kDup);
  t.bodies = open("bodies", 0);
  t.refs = open("refs", 0);
  t.heads = open("heads", 0);
  t.dedup = open("dedup", 0);
  t.convs = open("convs", 0);
  t.cursors = open("cursors", 0);
  t.undelivered = open("undelivered", 0);
  t.groups = open("groups", 0);
  t.expiry = open("expiry", 0);
  t.push_regs = open("push_regs", 0);
  t.push_due = open("push_due", 0);
  return t;
}

size_t MaxKeySize(const Txn& txn) { return static_cast<size_t>(mdb_env_get_maxkeysize(mdb_txn_env(txn.get()))); }

bool KeysFit(const Txn& txn, std::initializer_list<size_t> sizes) {
  const size_t max = MaxKeySize(txn);
  for (size_t n : sizes) {
    if (n > max) return false;
  }
  return true;
}

}  // namespace courier::storage
