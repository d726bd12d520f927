// Engine: Courier's protocol logic, free of I/O.
//
// OnPublish turns one inbound publish into a Decision: immediate publishes
// and storage requests. OnCompletion turns one finished storage request into
// the publishes it causes (deliveries, acks, receipts, errors). The shell
// sends those only after the store has made the request durable.
// Housekeeping() gives the periodic storage work (expiry, retention).
//
// Thread: const after construction; it only writes to the Stats it was given
// (may be null), whose counters are atomic. So OnCompletion may run on one
// thread (the plugin's commit thread) while OnPublish runs on another. Never
// throws for bad input: bad input becomes an error Signal.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "action.h"
#include "core_options.h"
#include "requests.h"
#include "stats.h"
#include "topics.h"

namespace courier::core {

// One publish as the broker received it, with the publisher's identity.
struct Inbound {
  std::string_view topic;
  std::string_view payload;
  std::string_view user;       // MQTT username; empty when the client has none
  std::string_view client_id;  // MQTT client id
  int64_t now_ms = 0;          // wall clock, epoch ms
  bool rate_limited = false;   // the shell's RateLimiter refused this client
};

class Engine {
 public:
  explicit Engine(CoreOptions options, Stats* stats = nullptr);

  Decision OnPublish(const Inbound& in) const;
  // A publish on the admin topic $CONTROL/courier/v1.
  Decision OnControl(const Inbound& in) const;
  // Whether `user` may use the admin API (listed in admin_users).
  bool IsAdmin(std::string_view user) const;
  std::vector<Publish> OnCompletion(const storage::Completion& done) const;
  // Storage work to run now: expiry of undelivered copies and, when
  // retention_s is set, a retention slice. Bounded per call.
  std::vector<storage::Request> Housekeeping(int64_t now_ms, int64_t retention_ms) const;

  // The live delivery of a stored copy (RECEIVER or DEVICE) on the inbox
  // of `user`, whose log holds it: what an append publishes, and what
  // cross-edge catch-up publishes for a copy another edge appended.
  Publish LiveCopy(std::string_view user, const courier::v1::Message& copy) const;

  const Topics& topics() const { return topics_; }
  const CoreOptions& options() const { return options_; }

 private:
  Decision OnSend(const Inbound& in) const;
  Decision OnSignal(const Inbound& in) const;
  Publish Error(std::string_view user, std::string_view device, std::string_view id, ErrorCode code,
                std::string_view detail) const;
  std::vector<Publish> Failed(const storage::Completion& done) const;
  std::vector<Publish> Done(const storage::AppendRequest& req, const storage::AppendResult& res) const;
  std::vector<Publish> Done(const storage::ReceiptRequest& req, const storage::ReceiptResult& res) const;
  std::vector<Publish> Done(const storage::PullRequest& req, const storage::PullResult& res) const;
  std::vector<Publish> Done(const storage::MembersRequest& req, const storage::MembersResult& res) const;
  std::vector<Publish> Done(const storage::ExpireRequest& req, const storage::ExpireResult& res) const;
  std::vector<Publish> Done(const storage::TrimRequest& req, const storage::TrimResult& res) const;
  std::vector<Publish> Done(const storage::AdminRequest& req, const storage::AdminResult& res) const;
  std::vector<Publish> Done(const storage::PushRegisterRequest& req, const storage::PushRegisterResult& res) const;
  std::vector<Publish> Done(const storage::PushDoneRequest& req, const storage::PushDoneResult& res) const;
  std::vector<Publish> Done(const storage::PushScanRequest& req, const storage::PushScanResult& res) const;

  CoreOptions options_;
  Topics topics_;
  Stats* stats_;
};

}  // namespace courier::core
