// The fuzz target's world (inbound_fuzz.cc): one engine per variant, one
// LMDB store for the whole process, and a model of the store (each user's
// head, each conversation's counter) that every completion is checked
// against.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine.h"
#include "lmdb_store.h"
#include "stats.h"

namespace courier::fuzz {

struct World {
  core::Stats stats;
  std::vector<std::unique_ptr<core::Engine>> engines;
  std::string dir;
  std::unique_ptr<storage::LmdbStore> store;
  // Engine that made each submitted request, in submission order (LMDB
  // completes all of them, in order).
  std::deque<const core::Engine*> pending;
  // The model of the store: each user's head and each conversation's
  // counter, from the completions seen since the store was (re)created.
  std::map<std::string, int32_t> heads;
  std::map<std::string, int32_t> convs;
  uint64_t inputs = 0;
  uint64_t resets = 0;
};

// The one world of the process (LLVMFuzzerInitialize makes it).
extern World* world;

// The engine variants an input can pick (config bits 0-1).
core::CoreOptions Variant(int v);
// (Re)creates the store in world->dir, empty, and resets the model.
void OpenStore();
// Removes world->dir (at exit).
void Cleanup();
// Completes every submitted request, checking each completion against the
// model; a full store is recreated.
void Flush();

}  // namespace courier::fuzz
