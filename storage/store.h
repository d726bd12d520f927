// Store: the durable home of every user's log. One implementation per engine
// (LMDB today; a distributed store later implements the same interface).
//
// Thread: a Store is used from one thread (the broker thread); it is not
// thread-safe. Durability: a request's effects are durable, and visible to
// later requests' completions, only once Flush() has returned its Completion.
// Nothing returned by Flush() can be taken back by a crash.
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
  // it was given (a remote store returns what has come back so far); LMDB
  // returns all of them. A failure of the store itself fails every request of
  // the batch with the same transient status and writes none of them.
  virtual std::vector<Completion> Flush() = 0;

  // Number of submitted requests not yet returned by Flush().
  virtual size_t pending() const = 0;

  virtual StoreStats commit_stats() const = 0;
};

}  // namespace courier::storage
