// PushSender: posts due pushes to the app's push gateway from a thread of
// its own (libcurl), never on the broker thread.
//
// Threads: Add, Received and Take may be called from any thread (the
// broker thread and the store's commit thread do); the HTTP calls run on
// the sender's thread. The destructor stops it: a call under way is
// aborted, and what was not sent stays due in the store for the next start.
// Failures: a gateway that is down, slow or hung only delays pushes (each
// call is bounded by timeout_ms); nothing here throws to the caller after
// construction, and nothing calls into Mosquitto (log lines are handed to
// the broker thread through Take).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "push_queue.h"
#include "requests.h"

namespace courier::push {

struct PushOptions {
  // The gateway's URL (http or https). Empty: push is off.
  std::string url;
  // Key of the X-Courier-Signature header (HMAC-SHA256 of the body); empty: no header.
  std::string secret;
  // Whether the body carries the message's payload (base64). Never
  // encrypted or signature.
  bool payload = false;
  // Pushes for one device within this many ms of the first are one call.
  uint32_t coalesce_ms = 1000;
  // A push not taken by the gateway after this many seconds is dropped.
  uint32_t max_age_s = 86400;
  // Longest HTTP call, connection included.
  uint32_t timeout_ms = 5000;

  bool operator==(const PushOptions&) const = default;
};

class PushSender {
 public:
  // Whether (user, device) is connected to this broker now; called on the
  // sender's thread, so it must be thread-safe.
  using IsConnected = std::function<bool(const std::string& user, const std::string& device)>;

  // Starts the thread. curl_global_init must have run (PushSender::GlobalInit).
  PushSender(PushOptions options, IsConnected is_connected);
  ~PushSender();
  PushSender(const PushSender&) = delete;
  PushSender& operator=(const PushSender&) = delete;

  // Once per process, before any PushSender, on one thread.
  static void GlobalInit();

  void Add(std::vector<storage::PushDue> due);
  void Received(const std::string& user, int32_t offset);

  // What the store and the log must hear: due pushes settled, devices whose
  // gateway rejected the token, and log lines (warnings).
  struct Outcome {
    std::vector<storage::PushKey> done;
    std::vector<storage::PushKey> unregister;  // offset unused
    std::vector<std::string> log;
    bool empty() const { return done.empty() && unregister.empty() && log.empty(); }
  };
  Outcome Take();

  struct Counters {
    std::atomic<uint64_t> calls{0}, delivered{0}, rejected{0}, failed{0}, skipped_connected{0}, gave_up{0};
  };
  const Counters& counters() const { return counters_; }

 private:
  void Run();
  PushAnswer Post(const PushBatch& batch, std::string* note);

  const PushOptions options_;
  const IsConnected is_connected_;
  std::mutex mu_;
  std::condition_variable cv_;
  PushQueue queue_;
  Outcome outcome_;
  std::atomic<bool> stop_{false};
  Counters counters_;
  std::thread thread_;  // last: starts after everything above exists
};

}  // namespace courier::push
