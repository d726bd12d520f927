// EdgeHint: what one Courier edge (a Mosquitto broker sharing a PostgreSQL
// store with others) tells the other edges after a commit, so that they
// publish the same copies, receipt notices and activity to the devices
// connected to them (docs/scale-out.md, "Cross-edge delivery").
//
// A hint is a publish to one user's inbox or events topic, or "catch up
// user U" when the copy was too big to carry. Hints travel in batches, as
// text notifications of at most a given size (PostgreSQL NOTIFY takes less
// than 8000 bytes):
//
//   "c1 " EDGE " " BASE64(records)
//   record = kind (1 byte: 1 inbox, 2 events, 3 catch up)
//            qos (1 byte)
//            offset (varint; an inbox copy's position in the user's log,
//                    0 for what is not in a log)
//            user length (varint), user bytes
//            payload length (varint), payload bytes
//
// EDGE is the sending edge's id ([A-Za-z0-9._-], 1..64 bytes), so that an
// edge skips its own notifications. Pure functions; no I/O. Never throw for
// bad input: a malformed notification decodes to nullopt.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace courier::core {

struct EdgeHint {
  enum class Kind : uint8_t { kInbox = 1, kEvents = 2, kCatchUp = 3 };
  Kind kind = Kind::kInbox;
  std::string user;
  // kInbox: the copy's position in `user`'s log (a stored RECEIVER or DEVICE
  // copy); 0 for a transient copy. 0 for the other kinds.
  int32_t offset = 0;
  int qos = 0;
  std::string payload;  // kInbox, kEvents: the serialized Message or Signal

  bool operator==(const EdgeHint&) const = default;
};

struct HintBatch {
  std::string edge;  // the sending edge's id
  std::vector<EdgeHint> hints;
};

// True for a usable edge id: 1..64 bytes of [A-Za-z0-9._-].
bool IsValidEdgeId(std::string_view edge);

// Packs `hints`, in order, into as few notifications of at most `max_bytes`
// each as it can. A stored inbox copy too big for a notification of its own
// becomes a catch-up hint for its user; any other hint that big (a large
// transient message or activity) is left out and counted in *dropped.
// REQUIRES: IsValidEdgeId(edge), max_bytes large enough for the header and
// a catch-up hint (about 100 bytes plus the user name).
std::vector<std::string> EncodeHints(std::string_view edge, const std::vector<EdgeHint>& hints, size_t max_bytes,
                                     size_t* dropped = nullptr);

// One notification back into its hints; nullopt when it is not one.
std::optional<HintBatch> DecodeHints(std::string_view notification);

}  // namespace courier::core
