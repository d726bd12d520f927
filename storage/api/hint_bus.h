// HintBus: how Courier edges that share one store tell each other, after a
// commit, what they published, so that the others publish it to the devices
// connected to them at once (docs/scale-out.md, "Cross-edge delivery").
// Best effort: a hint may be lost (the bus is down, a queue overflowed), and
// nothing durable depends on it; each edge also catches up from the store.
//
// The bus carries opaque text notifications (core/edge_hint.h makes and
// reads them), each at most kMaxNotificationBytes, with no NUL byte, to
// every edge, the sender's own included. Engine-neutral: the PostgreSQL
// engine's bus is LISTEN/NOTIFY on a connection of its own
// (storage/postgres/pg_hint_bus.h); an engine that is not shared (LMDB) has
// none.
//
// Ownership: the plugin owns its bus. Thread: Send may be called from any
// thread and never blocks on the network; the bus delivers what it receives
// on a thread of its own. Failure: no call throws; a broken bus drops hints
// and reconnects by itself.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace courier::storage {

class HintBus {
 public:
  // PostgreSQL's NOTIFY payloads are shorter than 8000 bytes.
  static constexpr size_t kMaxNotificationBytes = 7999;
  // Notifications received, in arrival order; called on the bus's thread.
  using Deliver = std::function<void(std::vector<std::string> notifications)>;
  // One line for the operator's log; called on the bus's thread.
  using Log = std::function<void(const std::string& line)>;

  virtual ~HintBus() = default;
  // Queues notifications for every edge. Never blocks on the network; when
  // too much is queued (the bus is down) the oldest are dropped.
  virtual void Send(std::vector<std::string> notifications) = 0;
};

}  // namespace courier::storage
