// What the core asks the shell to do.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "requests.h"

namespace courier::core {

// Publish `payload` on `topic` at `qos`, not retained, as the broker.
struct Publish {
  std::string topic;
  std::string payload;    // serialized Message or Signal (JSON for admin replies)
  std::string client_id;  // when set, only this client gets it, subscribed or not
  int qos = 1;
  // A stored copy on P/{user}/inbox: its position in that user's log (the
  // copy's signal_offset); 0 for anything else. Cross-edge delivery
  // (edge_follower.h) tracks which entries an edge has published by it.
  int32_t log_offset = 0;
};

// The answer to one inbound publish.
struct Decision {
  // False for topics Courier does not own: the broker routes them as usual.
  // True means the publish is consumed and never relayed as it is.
  bool consumed = false;
  // Publishes that need no storage (errors, activity); send them at once.
  std::vector<Publish> publish;
  // Storage work, in order. Its completions produce the remaining publishes,
  // which the shell sends only after the store made them durable.
  std::vector<storage::Request> requests;
};

}  // namespace courier::core
