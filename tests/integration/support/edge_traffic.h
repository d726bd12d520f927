// EdgeTraffic: the senders and receivers of a scale-out test (several
// Courier edges on one PostgreSQL database), each of which fails over to
// another edge by itself, as a client given a list of servers would.
//
// Senders are LoadSenders (traffic.h): unique ids, a window of unacknowledged
// messages, every unacknowledged message resent with the same id after each
// reconnect and after `retry_after` without an ack. Receivers are
// LoadReceivers: they take what arrives live and pull after every reconnect,
// on a gap, and every `pull_every` (a receiver's edge may not be the edge
// that stored a message, so pulling is how it learns of it).
//
// Failover (per device): when its connection is lost, or a connection
// attempt fails, the device moves to the next edge (round robin); a sender
// that gets a transient error (store_unavailable) also drops its connection
// and moves on, after a pause of `failover_pause`, then resends everything
// unacknowledged there (dedup answers what was stored with the original
// ack). Every move is counted.
//
// Ownership: owns the senders and receivers. Threads: the test's main
// thread. Failures: nothing throws; what the clients saw is in their
// problems() and counters.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/traffic.h"

namespace courier::it {

struct EdgeTrafficOptions {
  std::vector<std::string> senders;    // one device each: <user>-phone
  std::vector<std::string> receivers;  // one device each: <user>-phone
  size_t window = 16;
  size_t payload_bytes = 64;
  std::chrono::milliseconds retry_after{2000};
  std::chrono::milliseconds pull_every{250};
  std::chrono::milliseconds failover_pause{100};
  size_t max_per_sender = 100000;  // a memory bound only
};

class EdgeTraffic {
 public:
  using Clock = std::chrono::steady_clock;

  explicit EdgeTraffic(const EdgeTrafficOptions& options);

  // One round: every client's work on its current edge (`ports`: the
  // edges, by index; 0 for an edge that is down), then the network for up
  // to 2 ms.
  void Step(const std::vector<int>& ports);
  // Stops making new ids and steps until nothing is unacknowledged or
  // `limit` passed; true when everything was acknowledged.
  bool Drain(const std::vector<int>& ports, std::chrono::milliseconds limit);
  // Steps until every receiver holds offsets 1..(acknowledged messages to
  // it) and its last pull reported no more, or `limit` passed; true when
  // every receiver caught up.
  bool CatchUp(const std::vector<int>& ports, std::chrono::milliseconds limit);
  // Sends every client whose home edge (the one it started on) is up but
  // which is elsewhere back home, dropping its connection there, as a load
  // balancer spreads reconnects again once a server is back. Its
  // unacknowledged messages are resent on the home edge, possibly while
  // the other edge still commits them. Returns how many moved.
  size_t GoHome(const std::vector<int>& ports);
  // Closes every connection.
  void DropAll();

  size_t acked() const;
  size_t in_flight() const;
  uint64_t transient_errors() const;
  uint64_t failovers() const { return failovers_; }
  // Acknowledged messages addressed to `receiver`.
  size_t AckedTo(const std::string& receiver) const;

  const std::vector<std::unique_ptr<LoadSender>>& senders() const { return senders_; }
  const std::vector<std::unique_ptr<LoadReceiver>>& receivers() const { return receivers_; }

 private:
  struct Route {
    size_t home = 0;
    size_t edge = 0;
    bool had_connection = false;
    int seen_failures = 0;
    uint64_t seen_transient = 0;
    Clock::time_point hold_until{};
  };
  void SendHome(AsyncDevice& d, Route& r, const std::vector<int>& ports, size_t* moved);
  // Moves `d` to the next edge when its connection went or an attempt failed.
  void Follow(AsyncDevice& d, Route& r, size_t edges);
  int PortOf(const Route& r, const std::vector<int>& ports) const;

  EdgeTrafficOptions options_;
  std::vector<std::unique_ptr<LoadSender>> senders_;
  std::vector<std::unique_ptr<LoadReceiver>> receivers_;
  std::vector<Route> sender_routes_, receiver_routes_;
  std::vector<AsyncDevice*> devices_;
  std::vector<Clock::time_point> next_pull_;
  uint64_t failovers_ = 0;
};

}  // namespace courier::it
