// EdgeDelivery: cross-edge delivery in the plugin, for a store shared by
// several edges (plugin_opt_store postgres; docs/scale-out.md, "Cross-edge
// delivery"). It holds the pure EdgeFollower (core/edge_follower.h) under a
// mutex, the hint bus, and hands what hints bring to the broker thread.
//
// Flow: the shell reports every publish it makes (Made: on the store's
// worker for a commit's publishes, on the broker thread for immediate
// ones); stored copies are claimed, and publishes to users' topics queued
// as hints, which Ship() packs into notifications for the bus after the
// commit. The bus's thread hands received notifications to Received(),
// which decodes them, keeps what concerns users followed here, puts the
// publishes into the shell's Outbox and kicks the broker loop. At every
// tick the shell submits the catch-up pulls Due() gives; their completions
// come back to Catch() on the worker, which turns them into publishes.
//
// Ownership: owns the bus (may be none: plugin_opt_edge_hints false); the
// Outbox, the Engine and the kick function are the shell's and must outlive
// it. Thread: every method may run on any thread (one mutex) unless noted;
// `kick` runs on the bus's thread. Failure: nothing throws out of the bus
// thread; malformed notifications are counted and logged once. Log lines go
// through TakeLog() to the broker thread (only it may call Mosquitto).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "edge_follower.h"
#include "edge_hint.h"
#include "edge_options.h"
#include "engine.h"
#include "hint_bus.h"
#include "outbox.h"

namespace courier::plugin {

class EdgeDelivery {
 public:
  using MakeBus = std::function<std::unique_ptr<storage::HintBus>(storage::HintBus::Deliver, storage::HintBus::Log)>;

  // `make_bus` is called once, here, unless options.hints is false or it is
  // empty; `edge_id` must pass core::IsValidEdgeId.
  EdgeDelivery(const core::Engine& engine, EdgeOptions options, std::string edge_id, Outbox* outbox,
               std::function<void()> kick, const MakeBus& make_bus);
  ~EdgeDelivery();
  EdgeDelivery(const EdgeDelivery&) = delete;
  EdgeDelivery& operator=(const EdgeDelivery&) = delete;

  // Stops and joins the bus thread; nothing is received after. The shell
  // calls it first when it goes, while the Outbox and the kick still exist.
  void StopBus();

  // The user's first device connected here / its last one left (broker thread).
  void Present(const std::string& user, int64_t now_ms);
  void Absent(const std::string& user);
  // Catch-up pulls to submit now (broker thread, each tick).
  std::vector<storage::PullRequest> Due(int64_t now_ms);

  // Publishes this edge made from its own commits or inbound publishes.
  void Made(const std::vector<core::Publish>& publishes);
  // When `done` is a catch-up pull: what it publishes goes to *out, and true.
  bool Catch(const storage::Completion& done, int64_t now_ms, std::vector<core::Publish>* out);
  // Packs the hints Made() queued into notifications and queues them on the bus.
  void Ship();

  // Log lines gathered since the last call (broker thread logs them).
  std::vector<std::string> TakeLog();

  const std::string& edge_id() const { return edge_id_; }

 private:
  // On the bus's thread: notifications from the edges, this one's included.
  void Received(std::vector<std::string> notifications);
  void Log(std::string line);

  const core::Engine& engine_;
  const std::string edge_id_;
  Outbox* const outbox_;
  const std::function<void()> kick_;
  std::mutex mu_;
  core::EdgeFollower follower_;
  std::vector<core::EdgeHint> pending_;  // hints Made() queued, not shipped yet
  std::vector<std::string> log_;
  uint64_t malformed_ = 0;
  uint64_t dropped_ = 0;
  std::unique_ptr<storage::HintBus> bus_;  // last: its thread uses the members above
};

// A fresh edge id for this process: 16 random hex digits.
std::string NewEdgeId();

}  // namespace courier::plugin
