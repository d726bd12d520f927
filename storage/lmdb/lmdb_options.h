// How the LMDB engine is opened: the configuration the plugin parses
// (plugin/plugin_options.h) and LmdbStore::Open takes. Plain values.
#pragma once

#include <cstdint>
#include <string>

namespace courier::storage {

enum class SyncMode {
  kFull,    // two fsyncs per commit (data, then meta page): a commit survives
            // power loss
  kNoMeta,  // one fsync per commit (MDB_NOMETASYNC): a power loss can undo the
            // last commit, never corrupt the store
  kOs,      // no fsync per commit (MDB_NOSYNC); a thread of its own syncs
            // the store every os_sync_interval_ms. Survives a crash of the
            // broker process; a power loss can lose the commits since the
            // last sync and, as LMDB warns, corrupt the store unless the
            // filesystem keeps write order
};

struct LmdbOptions {
  // Directory of the store. Created (mode 0700) when missing; its parent must exist.
  std::string path;
  // Initial size of the memory map. LMDB reserves address space, not disk.
  uint64_t map_size_mb = 1024;
  // The map doubles when full, up to this size. Past it, appends fail with
  // a kFull status (transient) until space is freed or the limit is raised.
  uint64_t max_map_size_mb = 65536;
  SyncMode sync = SyncMode::kFull;
  // With kOs: how often the store is forced to disk when something was
  // committed since, beside the commits; and once more when it closes.
  uint32_t os_sync_interval_ms = 1000;

  bool operator==(const LmdbOptions&) const = default;
};

}  // namespace courier::storage
