// Store: the durable home of every user's log, behind one interface per
// engine (LMDB today in storage/lmdb/; a PostgreSQL engine later implements
// the same interface and the same semantics of requests.h).
//
// Ownership: whoever opens an engine owns it; the plugin hands it to a
// ThreadedStore, which then owns it.
// Thread: a Store is not thread-safe. Every call must come from one thread
// at a time: the broker thread for a store it uses directly, the worker
// thread for the engine inside a ThreadedStore (threaded_store.h).
// Durability: a request's effects are durable, and visible to later
// requests' completions, only once Flush() has returned its Completion.
// Nothing returned by Flush() can be taken back by a crash.
// Failure: no call throws. A request that cannot be applied completes with
// a non-ok Status of its own (requests.h says which); a failure of the store
// itself (disk, full map) fails every request of the batch with the same
// transient Status and writes none of them; the next Flush() tries again.
#pragma once

#include <cstdint>
#include <vector>

#include "requests.h"

namespace courier::storage {

// Write transactions committed so far and the time they took.
struct StoreStats {
  uint64_t commits = 0;
  uint64_t commit_us_total = 0;
  uint64_t commit_us_max = 0;
  uint64_t last_commit_us = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // Queues a request. Cheap: no disk access happens here.
  virtual void Submit(Request request) = 0;

  // Applies what is queued and makes it durable; returns the completions that
  // are final, in submission order. An implementation may return fewer than
  // it was given (a remote store, or a worker, returns what has come back so
  // far); LMDB returns all of them.
  virtual std::vector<Completion> Flush() = 0;

  // Number of submitted requests not yet returned by Flush().
  virtual size_t pending() const = 0;

  virtual StoreStats commit_stats() const = 0;
};

}  // namespace courier::storage
