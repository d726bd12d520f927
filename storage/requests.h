// The operations a Store carries out, and what each one returns.
// Requests are plain values: the core builds them, the store applies them in
// submission order, and hands back one Completion per request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "messaging.pb.h"
#include "status.h"

namespace courier::storage {

// Append one message, deduplicated by (sender, message.id()).
// The store assigns every offset atomically: user_offset from the
// conversation's counter, and a signal_offset in each log it writes to.
struct AppendRequest {
  std::string sender;                  // user who sent it; its log gets the DEVICE copy
  std::vector<std::string> receivers;  // users that get a RECEIVER copy; never the sender
  std::string conversation;            // opaque key of the user_offset counter
  courier::v1::Message message;        // validated template: from, to, content, server_timestamp
  // When > 0: fail with kLimit, writing nothing, if a receiver already has
  // this many entries that no device of it has received.
  uint32_t max_undelivered = 0;
};

struct AppendResult {
  // True when (sender, id) was already stored: nothing was written and
  // device_copy is the original sender copy (compare content to detect a conflict).
  bool duplicate = false;
  courier::v1::Message device_copy;                  // signal_type DEVICE, sender's offset
  std::vector<std::string> receivers;                // parallel to receiver_copies
  std::vector<courier::v1::Message> receiver_copies; // signal_type RECEIVER, each receiver's offset
};

// Record a delivery receipt on entry `offset` of `user`'s log and move the
// cursor of (user, device) to at least `offset`. Ack flags are only ever
// set, never cleared. Only RECEIVER copies (and their sender-side peer)
// change state: on a user's own DEVICE copy a receipt moves the cursor only.
// NotFound when the log has no entry at `offset`.
struct ReceiptRequest {
  std::string id;  // the Signal's id, echoed in replies; the store ignores it
  std::string user;
  std::string device;
  int32_t offset = 0;
  bool received = false;
  bool read = false;
};

struct ReceiptResult {
  bool changed = false;                        // some ack flag went from false to true
  courier::v1::Message entry;                  // the user's copy, after the update
  std::string peer_user;                       // empty when the entry has no peer
  std::optional<courier::v1::Message> peer;    // the counterpart copy, after the update
};

// Read up to `limit` entries after `after`, oldest first. `after` < 0 means
// "after the cursor of (user, device)" (0 when it has none).
struct PullRequest {
  std::string id;  // the Signal's id, echoed in replies; the store ignores it
  std::string user;
  std::string device;
  int32_t after = 0;
  uint32_t limit = 0;
};

struct PullResult {
  int32_t head = 0;  // the highest offset of the user's log (0 when empty)
  std::vector<courier::v1::Message> entries;
};

using Request = std::variant<AppendRequest, ReceiptRequest, PullRequest>;
using Result = std::variant<std::monostate, AppendResult, ReceiptResult, PullResult>;

// One finished request. `result` holds the alternative matching `request`
// when status.ok(), and std::monostate otherwise.
struct Completion {
  Request request;
  Status status;
  Result result;
};

}  // namespace courier::storage
