// PushQueue: which due pushes the sender thread posts next, and what each
// answer of the gateway means. Pure: no I/O, no clock (times are epoch ms
// passed in), no threads (the sender holds its lock around every call).
//
// Per device, pushes that come due within `coalesce_ms` of the first are
// posted as one call that stands for all of them. A failed call is retried
// with exponential backoff until the oldest push in it is older than
// `max_age_ms`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "requests.h"

namespace courier::push {

struct PushPolicy {
  int64_t coalesce_ms = 1000;
  int64_t max_age_ms = 86400 * 1000;
  int64_t backoff_initial_ms = 1000;
  int64_t backoff_max_ms = 60000;
};

// The pushes of one device posted in one call: items in offset order; the
// call carries the last one (which alone has app and token set) and the
// count.
struct PushBatch {
  std::string user;
  std::string device;
  std::vector<storage::PushDue> items;
};

enum class PushAnswer {
  kDelivered,  // 2xx: the gateway took it
  kRejected,   // 404 or 410: the token is dead; the registration goes
  kDropped,    // another 4xx, or no push was needed (the device is connected)
  kRetry,      // 5xx, a timeout or no connection
};

// What the store must do after an answer.
struct Settled {
  std::vector<storage::PushKey> done;  // due pushes to remove
  bool unregister = false;             // remove the device's registration (and its due pushes)
  bool gave_up = false;                // kRetry past max_age: dropped
};

class PushQueue {
 public:
  explicit PushQueue(PushPolicy policy) : policy_(policy) {}

  // Queues `due` (a key already queued is ignored).
  void Add(storage::PushDue due, int64_t now_ms);
  // A device of `user` received the entry at `offset`: no push for it.
  void Received(const std::string& user, int32_t offset);
  // The next batch to post at `now_ms`, marked in flight; nullopt if none is due.
  std::optional<PushBatch> Next(int64_t now_ms);
  // The earliest time a batch becomes due; nullopt when nothing waits.
  std::optional<int64_t> NextDue() const;
  Settled Settle(const PushBatch& batch, PushAnswer answer, int64_t now_ms);

  size_t size() const;  // pushes queued, in flight included

 private:
  struct Device {
    std::map<int32_t, storage::PushDue> items;  // by offset; app and token are the device's
    std::string app;
    std::string token;
    int64_t first_ms = 0;  // when the oldest waiting item was added
    int64_t next_attempt_ms = 0;
    int64_t backoff_ms = 0;
    bool in_flight = false;
  };
  int64_t DueAt(const Device& d) const;

  PushPolicy policy_;
  std::map<std::pair<std::string, std::string>, Device> devices_;
};

}  // namespace courier::push
