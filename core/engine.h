// Engine: Courier's protocol logic, free of I/O.
//
// OnPublish turns one inbound publish into a Decision: immediate publishes
// and storage requests. OnCompletion turns one finished storage request into
// the publishes it causes (deliveries, acks, receipts, errors). The shell
// sends those only after the store has made the request durable.
//
// Thread: const and stateless after construction; safe to call from any
// thread. Never throws for bad input: bad input becomes an error Signal.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "action.h"
#include "core_options.h"
#include "requests.h"
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
  explicit Engine(CoreOptions options);

  Decision OnPublish(const Inbound& in) const;
  std::vector<Publish> OnCompletion(const storage::Completion& done) const;

  const Topics& topics() const { return topics_; }
  const CoreOptions& options() const { return options_; }

 private:
  Decision OnSend(const Inbound& in) const;
  Decision OnSignal(const Inbound& in) const;
  std::vector<Publish> Appended(const storage::AppendRequest& req,
                                const storage::AppendResult& res) const;
  std::vector<Publish> Receipted(const storage::ReceiptRequest& req,
                                 const storage::ReceiptResult& res) const;
  std::vector<Publish> Pulled(const storage::PullRequest& req, const storage::PullResult& res) const;

  CoreOptions options_;
  Topics topics_;
};

}  // namespace courier::core
