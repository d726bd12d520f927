// DeliveryAudit: the end-of-test check of the scale-out failure tests. It
// holds what the clients were told (every SENDER ack), what the store holds
// (every user's log, read with SQL: PgLogReader), and what a final pull by
// each receiver returned, and checks the promises of protocol.md
// "Guarantees" against each other:
//   - lost: an acknowledged id missing from its receiver's log (must be 0);
//   - duplicated: an id stored twice in a log (must be 0);
//   - gaps: a log whose offsets are not exactly 1..N, or whose head row is
//     not N; a conversation whose user_offsets are not 1..K in log order;
//   - ack mismatch: a DEVICE copy not at the offsets its ack named;
//   - unacked stored: a stored message no sender holds an ack for;
//   - final pull: each receiver's pull from offset 0 returns every
//     acknowledged message to it exactly once, at its stored offset;
//   - taken back: a receiver device got an entry (live or pulled) that is
//     not what the store holds at that offset.
// Each finding is a gtest failure (the first 10 of a kind spelled out);
// the counts are kept for the report line.
//
// Ownership: keeps pointers into the EdgeTraffic and copies of the logs.
// Threads: the test's main thread.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "support/edge_traffic.h"

namespace courier::it {

class DeliveryAudit {
 public:
  struct Counts {
    size_t acked = 0, stored = 0, device_copies = 0;
    size_t lost = 0, duplicated = 0, gaps = 0, ack_mismatch = 0, unacked_stored = 0;
    size_t final_pull_missing = 0, final_pull_twice = 0, taken_back = 0;
    // Resends of an id after it was stored (its server_timestamp): the
    // resends dedup answered with the original ack.
    size_t resends_after_stored = 0;
  };

  explicit DeliveryAudit(const EdgeTraffic& traffic);

  // Reads every sender's and receiver's log from the database; false (and
  // a failure) when it cannot.
  bool ReadStore(const std::string& conninfo);
  // A receiver's final pull from offset 0 (offset -> entry, in order of
  // arrival; an offset seen twice is recorded in `twice`).
  void AddFinalPull(const std::string& receiver, const std::vector<v1::Message>& entries);
  // Runs every check; the counts afterwards.
  const Counts& Check();
  const Counts& counts() const { return counts_; }

 private:
  using Key = std::pair<std::string, std::string>;  // (sender, id)
  void CheckOffsets();
  void CheckReceiverLogs();
  void CheckSenderLogs();
  void CheckFinalPulls();
  void CheckNothingTakenBack();

  const EdgeTraffic& traffic_;
  std::map<Key, const LoadSender::Record*> acked_;
  std::map<std::string, std::vector<v1::Message>> logs_;
  std::map<std::string, int32_t> heads_;
  std::map<Key, const v1::Message*> receiver_copy_;
  std::map<std::string, std::vector<v1::Message>> final_pulls_;
  Counts counts_;
};

}  // namespace courier::it
