// Shell: adapts Mosquitto's callbacks to the Engine and the Store, and
// carries out the Engine's actions. Holds no protocol logic.
//
// Thread: every method runs on the broker thread (Mosquitto calls plugins
// from its single main loop). With ticks, the store commits on a worker
// thread (ThreadedStore), and the Engine turns each finished commit into
// publishes there too (FinishBatch, which only builds values); the broker
// thread takes them from the Outbox and sends them. Errors: methods return
// MOSQ_ERR_* codes and never throw; the C entry points in plugin.cc also
// catch everything.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "edge_delivery.h"
#include "engine.h"
#include "loop_kicker.h"
#include "outbox.h"
#include "presence.h"
#include "push_sender.h"
#include "rate_limiter.h"
#include "plugin_options.h"
#include "store.h"
#include "threaded_store.h"

struct mosquitto_evt_message;
struct mosquitto_evt_acl_check;
struct mosquitto_evt_tick;
struct mosquitto_evt_control;
struct mosquitto_evt_disconnect;

namespace courier::plugin {

class Shell {
 public:
  // With `wake` set, the store runs on a worker thread (ThreadedStore) that
  // calls `wake` (from that thread) when commits are done. Without it the
  // broker sends no tick events (per_listener_settings true), so every
  // message is committed on arrival, on the broker thread.
  //
  // `edges`, set for a store shared by several edges (PostgreSQL), turns on
  // cross-edge delivery (edge_delivery.h, options_.edge); the function makes
  // the hint bus (not called with plugin_opt_edge_hints false). Unset (LMDB):
  // none of it.
  Shell(PluginOptions options, std::unique_ptr<storage::Store> store, std::function<void()> wake,
        std::optional<EdgeDelivery::MakeBus> edges = std::nullopt);
  ~Shell();

  int OnMessage(mosquitto_evt_message* ev);
  int OnAclCheck(mosquitto_evt_acl_check* ev);
  // A publish on $CONTROL/courier/v1 (the admin API).
  int OnControl(mosquitto_evt_control* ev);
  // A client left: it no longer counts as connected (push).
  int OnDisconnect(mosquitto_evt_disconnect* ev);
  // Publishes what the store's finished requests caused (with a synchronous
  // store: commits the batch gathered since the last tick first).
  int OnTick();
  // The same, outside a tick; used at shutdown.
  void FlushNow();
  // Settles what happens to topics outside the prefix (other_topics.h):
  // with plugin_opt_other_topics auto, from the broker's configuration file
  // as it is now. Logs the outcome in one line (plus a warning when another
  // plugin answers first). Called at load and at each config reload.
  void DecideOtherTopics();

 private:
  // The store on its commit thread, started by Release() (kAtRelease).
  std::unique_ptr<storage::Store> MakeThreaded(std::unique_ptr<storage::Store> store, std::function<void()> wake);
  void Flush();
  // Flush() when no tick will: before the first one, or once they stopped.
  void FlushWithoutTicks();
  // Right after a commit, on the store's worker thread (or, without ticks,
  // on the broker thread): the batch's publishes into the outbox. The
  // worker frees the requests and results.
  void FinishBatch(std::vector<storage::Completion>& batch);
  void Publish(const std::vector<core::Publish>& publishes);
  // Due pushes a batch stored or cleared, to the push sender (any thread).
  void ForwardPushes(const storage::Completion& done);
  // On the broker thread: what the push sender settled, to the store and the log.
  void SettlePushes();

  void Housekeeping();
  // Each tick: catch-up pulls due, hints queued on the broker thread.
  void FollowEdges();
  void WarnNoTick();
  void LogStats();

  PluginOptions options_;
  // options_.other_topics as configured (may be kAuto); options_.other_topics
  // itself holds the effective kAllow or kDefer once DecideOtherTopics ran.
  OtherTopics configured_other_topics_;
  core::Stats stats_;
  core::Engine engine_;
  // Declared before store_: the worker may still use these while store_ is
  // destroyed (it finishes what was submitted).
  Outbox outbox_;
  Presence presence_;
  // Cross-edge delivery; null unless the store is shared. Its bus thread is
  // stopped first in the destructor (it uses outbox_ and kicker_); the
  // worker uses it until store_ is destroyed.
  std::unique_ptr<EdgeDelivery> edges_;
  // Null without push_url. Its thread reads presence_.
  std::unique_ptr<push::PushSender> pusher_;
  // Where the restart's scan of due pushes goes on (set on the worker,
  // taken on the broker thread).
  std::mutex scan_mu_;
  std::optional<std::string> scan_next_;
  std::unique_ptr<storage::Store> store_;
  // store_ itself when it is a ThreadedStore (with ticks), else null; set
  // in the constructor's body. Flush() releases it; when it is null, there
  // is no worker, and completions become publishes on the broker thread.
  storage::ThreadedStore* threaded_ = nullptr;
  // With ticks: gets publishes to WebSocket clients written at once.
  std::unique_ptr<LoopKicker> kicker_;
  core::RateLimiter limiter_;
  std::chrono::steady_clock::time_point last_sweep_;
  std::chrono::steady_clock::time_point last_tick_;
  std::chrono::steady_clock::time_point last_housekeeping_;
  std::chrono::steady_clock::time_point last_stats_log_;
  bool seen_tick_ = false;
  bool warned_no_tick_ = false;
};

}  // namespace courier::plugin
