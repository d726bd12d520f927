#include "support/edge_traffic.h"

#include <algorithm>

namespace courier::it {

EdgeTraffic::EdgeTraffic(const EdgeTrafficOptions& options) : options_(options) {
  size_t i = 0;
  for (const auto& u : options_.senders) {
    senders_.push_back(std::make_unique<LoadSender>(u, u + "-phone", options_.receivers, options_.window,
                                                    options_.payload_bytes, options_.retry_after));
    senders_.back()->set_max_messages(options_.max_per_sender);
    devices_.push_back(&senders_.back()->device());
    Route r;
    r.home = r.edge = i++;  // spread the clients over the edges from the start
    sender_routes_.push_back(r);
  }
  for (const auto& u : options_.receivers) {
    receivers_.push_back(std::make_unique<LoadReceiver>(u, u + "-phone"));
    devices_.push_back(&receivers_.back()->device());
    Route r;
    r.home = r.edge = i++;
    receiver_routes_.push_back(r);
  }
  next_pull_.assign(receivers_.size(), Clock::now());
}

int EdgeTraffic::PortOf(const Route& r, const std::vector<int>& ports) const { return ports[r.edge % ports.size()]; }

void EdgeTraffic::Follow(AsyncDevice& d, Route& r, size_t edges) {
  if (d.alive()) {
    r.had_connection = true;
    return;
  }
  if (r.had_connection || d.connect_failures() != r.seen_failures) {
    r.edge = (r.edge + 1) % edges;
    r.had_connection = false;
    r.seen_failures = d.connect_failures();
    ++failovers_;
  }
}

void EdgeTraffic::Step(const std::vector<int>& ports) {
  const auto now = Clock::now();
  for (size_t i = 0; i < senders_.size(); ++i) {
    LoadSender& s = *senders_[i];
    Route& r = sender_routes_[i];
    if (now < r.hold_until) continue;
    Follow(s.device(), r, ports.size());
    // An edge that is down has port 0: try the next one at once.
    if (!s.device().alive() && PortOf(r, ports) == 0) {
      r.edge = (r.edge + 1) % ports.size();
      ++failovers_;
      continue;
    }
    s.Step(PortOf(r, ports));
    if (s.transient_errors() != r.seen_transient) {
      // The edge's store is unavailable: leave it, come back later elsewhere.
      r.seen_transient = s.transient_errors();
      s.device().Drop();
      r.had_connection = false;
      r.edge = (r.edge + 1) % ports.size();
      r.hold_until = now + options_.failover_pause;
      ++failovers_;
    }
  }
  for (size_t i = 0; i < receivers_.size(); ++i) {
    LoadReceiver& rc = *receivers_[i];
    Route& r = receiver_routes_[i];
    Follow(rc.device(), r, ports.size());
    if (!rc.device().alive() && PortOf(r, ports) == 0) {
      r.edge = (r.edge + 1) % ports.size();
      ++failovers_;
      continue;
    }
    rc.Step(PortOf(r, ports));
    if (now >= next_pull_[i]) {
      rc.RequestPull();
      next_pull_[i] = now + options_.pull_every;
    }
  }
  PumpAll(devices_, std::chrono::milliseconds(2));
}

bool EdgeTraffic::Drain(const std::vector<int>& ports, std::chrono::milliseconds limit) {
  for (auto& s : senders_) s->set_generating(false);
  const auto until = Clock::now() + limit;
  auto idle = [&] { return std::all_of(senders_.begin(), senders_.end(), [](auto& s) { return s->idle(); }); };
  while (!idle() && Clock::now() < until) Step(ports);
  return idle();
}

size_t EdgeTraffic::AckedTo(const std::string& receiver) const {
  size_t n = 0;
  for (const auto& s : senders_) {
    for (const auto& [id, rec] : s->records()) n += rec.acked && rec.receiver == receiver ? 1 : 0;
  }
  return n;
}

bool EdgeTraffic::CatchUp(const std::vector<int>& ports, std::chrono::milliseconds limit) {
  std::vector<size_t> expected;
  for (const auto& r : receivers_) expected.push_back(AckedTo(r->user()));
  auto done = [&] {
    for (size_t i = 0; i < receivers_.size(); ++i) {
      const auto& r = *receivers_[i];
      if (!r.caught_up() || static_cast<size_t>(r.contiguous()) < expected[i]) return false;
    }
    return true;
  };
  const auto until = Clock::now() + limit;
  while (!done() && Clock::now() < until) Step(ports);
  return done();
}

void EdgeTraffic::SendHome(AsyncDevice& d, Route& r, const std::vector<int>& ports, size_t* moved) {
  const size_t n = ports.size();
  if (r.edge % n == r.home % n || ports[r.home % n] == 0) return;
  d.Drop();
  r.edge = r.home % n;
  r.had_connection = false;
  r.seen_failures = d.connect_failures();
  ++*moved;
}

size_t EdgeTraffic::GoHome(const std::vector<int>& ports) {
  size_t moved = 0;
  for (size_t i = 0; i < senders_.size(); ++i) SendHome(senders_[i]->device(), sender_routes_[i], ports, &moved);
  for (size_t i = 0; i < receivers_.size(); ++i) {
    SendHome(receivers_[i]->device(), receiver_routes_[i], ports, &moved);
  }
  return moved;
}

void EdgeTraffic::DropAll() {
  for (auto* d : devices_) d->Drop();
}

size_t EdgeTraffic::acked() const {
  size_t n = 0;
  for (const auto& s : senders_) n += s->acked();
  return n;
}

size_t EdgeTraffic::in_flight() const {
  size_t n = 0;
  for (const auto& s : senders_) n += s->in_flight();
  return n;
}

uint64_t EdgeTraffic::transient_errors() const {
  uint64_t n = 0;
  for (const auto& s : senders_) n += s->transient_errors();
  return n;
}

}  // namespace courier::it
