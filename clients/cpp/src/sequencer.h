// Sequencer: turns the entries that arrive (live pushes and pulled pages, in
// any order, with duplicates) into one in-order stream, and decides which
// PULL requests to send. Pure: no I/O, no clock, no threads. Used only by the
// client's network thread.
//
// The cursor is the highest offset delivered in order. Rules:
//  - an entry at or below the cursor is a duplicate and is dropped;
//  - the entry right after the cursor is delivered, then every buffered
//    entry that follows without a gap;
//  - an entry beyond cursor + 1 is buffered and, unless a pull is running,
//    a pull "after cursor" is requested; a later copy of a buffered offset
//    (typically the pulled one after the live push) replaces the earlier;
//  - when a pull response arrives, offsets the pull proved absent (expired or
//    never written: the first entry it sent is above `after` + 1, or it sent
//    nothing although the head is beyond `after`) are skipped; then another
//    pull is requested while the cursor is below the head or a gap remains;
//    otherwise the sync is complete.
// While the cursor is unknown (first start without a cursor file) entries
// are buffered until the first pull response fixes it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "courier/client.h"

namespace courier::client::detail {

struct PullOrder {
  std::string id;
  int32_t after = 0;       // pull entries after this offset; -1: after the server's cursor
  bool head_only = false;  // a PUSH request: only learn the head
};

class Sequencer {
 public:
  Sequencer(std::optional<int32_t> cursor, std::string id_prefix);

  // Forgets the running pull (after a reconnect) and returns the first
  // request of a sync: after the cursor when known, else as `start` says.
  PullOrder StartSync(StartFrom start);

  // A stored entry (offset > 0). Deliverable entries are appended to *out in
  // order. Returns a pull to send when a gap needs one.
  std::optional<PullOrder> OnEntry(Message m, std::vector<Message>* out);

  // The response to pull `id`: the log's head and how many entries it sent.
  // Stale ids are ignored. *synced is set when the cursor reached the head
  // and nothing is buffered. *reset_from is set to the old cursor when the
  // head was below it (the cursor is then reset to the head).
  std::optional<PullOrder> OnPullResponse(const std::string& id, int32_t head, uint32_t count,
                                          std::vector<Message>* out, bool* synced, std::optional<int32_t>* reset_from);

  // Pull `id` failed (transient error, timeout): returns the request to send
  // instead (same starting point), or nullopt when `id` is not running.
  std::optional<PullOrder> OnPullFailed(const std::string& id);

  // A pull is running (sent, no response yet).
  bool pulling() const { return running_.has_value(); }
  std::optional<std::string> running_id() const;
  std::optional<int32_t> cursor() const { return cursor_; }
  size_t buffered() const { return buffer_.size(); }

 private:
  struct Running {
    PullOrder order;
    std::optional<int32_t> lowest;  // lowest pulled offset seen above `after`
  };

  PullOrder NewPull(int32_t after, bool head_only = false);
  // Delivers what follows the cursor without a gap.
  void Drain(std::vector<Message>* out);

  std::optional<int32_t> cursor_;
  std::map<int32_t, Message> buffer_;  // offset -> entry, all above the cursor
  std::optional<Running> running_;
  std::string id_prefix_;
  uint64_t next_id_ = 1;
};

}  // namespace courier::client::detail
