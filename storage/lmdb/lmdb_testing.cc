#include "lmdb_testing.h"

#include "lmdb_env.h"
#include "schema.h"
#include "tables.h"

namespace courier::storage {
namespace {

// Runs fn(txn, tables) in one write transaction on the store at `path`;
// commits when it returns Ok.
template <typename Fn>
Status InWriteTxn(const std::string& path, Fn fn) {
  try {
    Env env;
    Check(mdb_env_set_maxdbs(env.get(), 64), "mdb_env_set_maxdbs");
    Check(mdb_env_open(env.get(), path.c_str(), 0, 0600), "mdb_env_open");
    Txn txn(env.get(), false);
    const Tables t = OpenTables(txn, /*create=*/false);
    Status s = fn(txn, t);
    if (s.ok()) txn.Commit();
    return s;
  } catch (const LmdbError& e) { return Status::IoError(e.what()); }
}

}  // namespace

Status WriteSchemaVersionForTesting(const std::string& path, const std::optional<std::string>& version) {
  return InWriteTxn(path, [&](Txn& txn, const Tables& t) {
    if (t.meta == kNoTable) return Status::NotFound("no meta table in " + path);
    if (version) {
      txn.Put(t.meta, kSchemaVersionKey, *version);
    } else if (!txn.Del(t.meta, kSchemaVersionKey)) {
      return Status::NotFound("no schema version in " + path);
    }
    return Status::Ok();
  });
}

Status WriteGroupRecordForTesting(const std::string& path, const std::string& group, const std::string& bytes) {
  return InWriteTxn(path, [&](Txn& txn, const Tables& t) {
    if (t.groups == kNoTable) return Status::NotFound("no groups table in " + path);
    txn.Put(t.groups, group, bytes);
    return Status::Ok();
  });
}

}  // namespace courier::storage
