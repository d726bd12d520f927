// PgHintBus: the HintBus (storage/api/hint_bus.h) of the PostgreSQL engine:
// LISTEN and pg_notify() on a libpq connection of its own, on a thread of
// its own, apart from the store's connection and its transactions.
//
// Why apart: a transaction that notifies takes a cluster-wide lock from its
// commit until its commit record is flushed and, with synchronous standbys,
// replicated (async.c PreCommit_Notify). Notifying inside the durable
// append would serialize every edge's commits. So hints go after the
// commit, each batch of them in one autocommitted statement:
//   SELECT pg_notify($1, x) FROM unnest($2::text[]) AS x
// which takes that lock once per batch, not per message.
//
// Ownership: owns its connection and thread; the destructor stops and joins
// the thread (within about a poll interval; a connection attempt in
// progress is abandoned). Thread: Send from any thread (queues under a
// mutex, wakes the thread through an eventfd); `deliver` and `log` run on
// the bus's thread. Failure: nothing throws. When the connection breaks or
// cannot be made, the thread tries again after reconnect_min_ms, doubling up
// to reconnect_max_ms, logging once per outage; what is queued meanwhile is
// kept up to max_queued notifications (the oldest go first), and what
// arrived at other edges meanwhile is lost (their catch-up covers it). No
// log line contains the password.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hint_bus.h"

namespace courier::storage {

struct PgHintBusOptions {
  std::string conninfo;             // libpq connection string (the store's)
  std::string channel = "courier";  // the LISTEN/NOTIFY channel
  uint32_t connect_timeout_s = 5;   // per connection attempt
  uint32_t reconnect_min_ms = 100;
  uint32_t reconnect_max_ms = 5000;
  size_t max_queued = 10000;       // notifications kept while the bus is down
  size_t max_per_statement = 256;  // notifications per pg_notify() statement
};

class PgHintBus final : public HintBus {
 public:
  PgHintBus(PgHintBusOptions options, Deliver deliver, Log log);
  ~PgHintBus() override;
  PgHintBus(const PgHintBus&) = delete;
  PgHintBus& operator=(const PgHintBus&) = delete;

  void Send(std::vector<std::string> notifications) override;

  // Whether the connection is up and listening (tests).
  bool listening() const;
  // Notifications dropped because the queue was full, or a statement failed.
  uint64_t dropped() const;

 private:
  struct Conn;
  void Run();
  // Connects and listens; false (logged) when it could not.
  bool Connect(Conn* c);
  // Serves one connection until it breaks or the bus stops.
  void Serve(Conn* c);
  // Sends what is queued; false when the connection broke.
  bool SendQueued(Conn* c);
  // Reads what arrived; false when the connection broke.
  bool Receive(Conn* c);
  void Wake();
  void DrainWake();
  void Sleep(uint32_t ms);

  const PgHintBusOptions options_;
  const Deliver deliver_;
  const Log log_;
  int wake_fd_ = -1;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  uint64_t dropped_ = 0;
  bool listening_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace courier::storage
