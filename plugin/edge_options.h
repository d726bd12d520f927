// The options of cross-edge delivery (plugin_opt_edge_*), used only with a
// store shared by several edges (docs/scale-out.md, "Cross-edge delivery").
#pragma once

#include <cstdint>

namespace courier::plugin {

struct EdgeOptions {
  // Between two catch-up pulls of a user with a device on this edge, in ms:
  // the longest a copy another edge stored waits here when its hint is lost.
  uint32_t catchup_ms = 1000;
  // Whether to send and listen to hints. Without them, other edges'
  // deliveries reach devices here by catch-up alone (within catchup_ms),
  // and receipt notices, activity and transient messages from devices on
  // other edges do not reach them live.
  bool hints = true;

  bool operator==(const EdgeOptions&) const = default;
};

}  // namespace courier::plugin
