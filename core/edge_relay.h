// EdgeRelay: which of an edge's publishes go to the other edges as hints,
// and what an edge publishes for the hints it receives
// (docs/scale-out.md, "Cross-edge delivery").
//
// Forwarded: every publish to a user's inbox or events topic (copies,
// SENDER acks, receipt notices, activity, transient messages, expiry
// notices). Not forwarded: publishes to one device's topics (errors and
// pull answers go to a device that is connected to the edge that made
// them) and to one client (admin replies).
//
// Received: a user's inbox or events publish is published here only when
// the user has a device here (EdgeFollower::Follows); a stored copy only
// when EdgeFollower::Claim says it was not published here yet. A catch-up
// hint makes the user's catch-up pull due at once.
//
// Pure; not thread-safe (the follower is the caller's, under its lock).
#pragma once

#include <cstdint>
#include <vector>

#include "action.h"
#include "edge_follower.h"
#include "edge_hint.h"
#include "topics.h"

namespace courier::core {

// The hints that carry `publishes` to the other edges, in order.
std::vector<EdgeHint> HintsOf(const Topics& topics, const std::vector<Publish>& publishes);

// Counts this edge's own stored copies in `publishes` as published
// (EdgeFollower::Claim), so that catch-up does not publish them again.
void ClaimOwn(const std::vector<Publish>& publishes, const Topics& topics, EdgeFollower* follower);

// What this edge publishes for hints from another edge, in order.
std::vector<Publish> PublishesOf(const Topics& topics, const std::vector<EdgeHint>& hints, EdgeFollower* follower,
                                 int64_t now_ms);

}  // namespace courier::core
