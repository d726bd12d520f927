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
  return [id = std::move(id), type](const v1::Signal& s) { return s.id() == id && s.type() == type; };
}

inline auto SenderAckFor(std::string id) {
  return [id = std::move(id)](const v1::Signal& s) {
    return s.id() == id && s.type() == kResponse && s.signal_type() == kSender;
  };
}
inline auto NoticeFor(std::string id, int signal_type) {
  return [id = std::move(id), signal_type](const v1::Signal& s) {
    return s.id() == id && s.type() == kResponse && s.signal_type() == signal_type;
  };
}
inline auto PullResponse() {
  return [](const v1::Signal& s) { return s.type() == kResponse && s.signal_request() == kPull && !s.has_error(); };
}
inline auto AnyError() {
  return [](const v1::Signal& s) { return s.has_error() || s.type() == kError; };
}

// Publishes `m` from `d` and waits for the SENDER ack on the user's events.
std::optional<v1::Signal> SendAndWaitAck(CourierDevice& d, const v1::Message& m);

// Waits for the next error Signal on `d`'s own events topic and checks it is
// a permanent error (type ERROR) about `id` with error "code: ...".
::testing::AssertionResult GotPermanentError(CourierDevice& d, const std::string& id, const std::string& code);
// Same for a transient error: type RESPONSE, signal_offset_state false.
::testing::AssertionResult GotTransientError(CourierDevice& d, const std::string& id, const std::string& code);

}  // namespace courier::it
