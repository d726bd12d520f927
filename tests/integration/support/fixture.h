// CourierTest: the GoogleTest fixture of the flow tests. Each test gets its
// own Broker (own port, own data directory) with the plugin loaded, started
// in SetUp and killed in TearDown.
//
// Ownership: the fixture owns the Broker and every CourierDevice it hands out
// (devices are disconnected before the broker is killed). Threads: main test
// thread only. Failures: SetUp fails the test (with the broker log) if the
// broker does not start; Online() adds a failure and returns nullptr when a
// device cannot connect or subscribe. When a test fails, the broker log is
// attached to the failure output.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/broker.h"
#include "support/device.h"
#include "support/wire.h"

namespace courier::it {

class CourierTest : public ::testing::Test {
 protected:
  // Override to pass plugin options to the broker.
  virtual BrokerOptions Options() const { return {}; }

  void SetUp() override;
  void TearDown() override;

  // A connected device, subscribed to its four topics; nullptr on failure.
  CourierDevice* Online(const std::string& user, const std::string& device);
  // A device object that is not connected yet.
  CourierDevice* Offline(const std::string& user, const std::string& device);

  // Restarts the broker after kill -9 on the same port and data directory,
  // then reconnects (and resubscribes) every device that was connected.
  ::testing::AssertionResult CrashAndRestart();

  Broker& broker() { return *broker_; }

 private:
  std::unique_ptr<Broker> broker_;
  std::vector<std::unique_ptr<CourierDevice>> devices_;
};

// Matchers for Next*() waits.
inline auto WithId(std::string id) {
  return [id = std::move(id)](const auto& x) { return x.id() == id; };
}
inline auto SignalWithId(std::string id, int type) {
  return [id = std::move(id), type](const v1::Signal& s) {
    return s.id() == id && s.type() == type;
  };
}

}  // namespace courier::it
