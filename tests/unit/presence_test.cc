// plugin/presence.h: who is connected, and when a user's first device
// comes and its last one goes (cross-edge delivery follows users by it).
#include "presence.h"

#include <gtest/gtest.h>

namespace courier::plugin {
namespace {

TEST(Presence, FirstDeviceInLastDeviceOut) {
  Presence p;
  EXPECT_TRUE(p.Connected("bob", "phone", false));
  EXPECT_FALSE(p.Connected("bob", "phone", false)) << "its next subscribe";
  EXPECT_FALSE(p.Connected("bob", "tablet", true));
  EXPECT_TRUE(p.Connected("bobby", "x", false)) << "a name sharing a prefix is another user";
  EXPECT_TRUE(p.IsConnected("bob", "tablet"));
  EXPECT_TRUE(p.AnyWebSocket());
  EXPECT_FALSE(p.Disconnected("bob", "tablet"));
  EXPECT_FALSE(p.AnyWebSocket());
  EXPECT_FALSE(p.Disconnected("bob", "laptop")) << "never connected";
  EXPECT_TRUE(p.Disconnected("bob", "phone"));
  EXPECT_FALSE(p.Disconnected("bob", "phone")) << "gone already";
  EXPECT_TRUE(p.IsConnected("bobby", "x"));
}

}  // namespace
}  // namespace courier::plugin
