// Senders and receivers that keep Courier busy while a test breaks the
// broker under them (kill -9, online backup). Both are driven by the test's
// loop: call Step() every round, PumpAll() their devices in between.
//
// LoadSender: one device of one user. It sends messages with unique ids
// ("<user>-<n>") to its receivers in turn, keeps up to `window` of them
// unacknowledged, and resends every unacknowledged message with the same id
// after each reconnect and when no ack came for `retry_after`, until it holds
// the SENDER ack (protocol.md "Send": the client retries until it holds the
// ack). It reconnects with backoff by itself.
//
// LoadReceiver: one device of one user. It takes what arrives live on the
// user's inbox, and after each (re)connect, on a gap, and when asked, pulls
// after the highest offset up to which it holds every entry (limit 1000),
// again and again until it has the head the pull response reports.
//
// Ownership: each owns its AsyncDevice. Threads: the test's main thread.
// Failures: protocol violations seen on the wire (an ack whose offsets change
// between repeats, an offset re-delivered with another id, a permanent error)
// are collected in problems(); nothing throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "support/async_device.h"
#include "support/wire.h"

namespace courier::it {

int64_t EpochMs();

class LoadSender {
 public:
  using Clock = std::chrono::steady_clock;

  struct Record {
    v1::Message message;  // as first built; resent unchanged
    std::string receiver;
    int sends = 0;                 // publishes of this id
    std::vector<int64_t> send_ms;  // epoch ms of each publish
    bool acked = false;
    v1::Signal ack;       // the first SENDER ack
    int repeat_acks = 0;  // further SENDER acks for the same id
    int transient_errors = 0;
    Clock::time_point last_send{};
  };

  LoadSender(std::string user, std::string device, std::vector<std::string> receivers, size_t window,
             size_t payload_bytes, std::chrono::milliseconds retry_after);

  // One round: reconnect when needed; after a reconnect resend everything
  // unacknowledged; handle what arrived; resend what waited too long; send
  // new ids while generating and the window has room.
  void Step(int port);

  // While true (the default) new ids are made up; false: only what is in
  // flight is finished.
  void set_generating(bool on) { generating_ = on; }
  // Stops making new ids once this many were made (0: no limit).
  void set_max_messages(size_t n) { max_messages_ = n; }
  // Nothing unacknowledged, and no new ids to make (generation turned off
  // or the limit of set_max_messages reached).
  bool idle() const {
    return in_flight_.empty() && (!generating_ || (max_messages_ != 0 && next_seq_ > max_messages_));
  }

  AsyncDevice& device() { return device_; }
  const std::string& user() const { return device_.user(); }
  const std::map<std::string, Record>& records() const { return records_; }
  size_t acked() const { return acked_; }
  size_t in_flight() const { return in_flight_.size(); }
  uint64_t sends() const { return sends_; }
  uint64_t retries() const { return retries_; }
  uint64_t repeat_acks() const { return repeat_acks_; }
  uint64_t transient_errors() const { return transient_errors_; }
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  void Publish(Record& r);
  void Handle(const Received& in);

  AsyncDevice device_;
  std::vector<std::string> receivers_;
  size_t window_;
  size_t payload_bytes_;
  std::chrono::milliseconds retry_after_;
  bool generating_ = true;
  size_t max_messages_ = 0;
  uint64_t next_seq_ = 1;
  std::map<std::string, Record> records_;
  std::set<std::string> in_flight_;
  size_t acked_ = 0;
  uint64_t sends_ = 0, retries_ = 0, repeat_acks_ = 0, transient_errors_ = 0;
  std::vector<std::string> problems_;
};

class LoadReceiver {
 public:
  using Clock = std::chrono::steady_clock;

  LoadReceiver(std::string user, std::string device);

  // One round: reconnect when needed; pull after each reconnect; take what
  // arrived; pull again while below the reported head or past a gap.
  void Step(int port);
  // Pulls now (after the current contiguous offset) unless a pull is out.
  void RequestPull();

  // Every entry held, by offset (signal_offset in this user's log).
  const std::map<int32_t, v1::Message>& held() const { return held_; }
  // The highest n such that offsets 1..n are all held.
  int32_t contiguous() const { return contiguous_; }
  // The head reported by the last pull response (-1 before any).
  int32_t head() const { return head_; }
  // No pull outstanding and everything up to the last reported head held.
  bool caught_up() const { return !pull_out_ && head_ >= 0 && contiguous_ >= head_; }

  AsyncDevice& device() { return device_; }
  const std::string& user() const { return device_.user(); }
  uint64_t live() const { return live_; }
  uint64_t pulled() const { return pulled_; }
  uint64_t pulls() const { return pulls_; }
  uint64_t redelivered() const { return redelivered_; }
  // Pull responses that carried an error (transient ones included).
  uint64_t pull_errors() const { return pull_errors_; }
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  void Hold(const v1::Message& m, bool pulled);

  AsyncDevice device_;
  std::map<int32_t, v1::Message> held_;
  int32_t contiguous_ = 0;
  int32_t head_ = -1;
  bool pull_out_ = false;
  Clock::time_point pull_sent_{};
  uint64_t live_ = 0, pulled_ = 0, pulls_ = 0, redelivered_ = 0, pull_errors_ = 0;
  std::vector<std::string> problems_;
};

}  // namespace courier::it
