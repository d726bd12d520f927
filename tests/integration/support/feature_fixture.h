// FeatureTest: the fixture of the issue-5 feature tests (groups, expiry,
// priority, transient messages, retention, admin API). A CourierTest whose
// broker has `plugin_opt_admin_users admin` (AdminUsers()) plus the test's own options, and
// an admin connection (user "admin", client id "admin-cli") for creating
// groups and asking the admin API.
//
// Ownership: the fixture owns the AdminClient and disconnects it before the
// broker is killed. Threads: main test thread only. Failures: Admin() adds a
// failure and returns nullptr when it cannot connect; Pull() adds a failure
// when no PULL response arrives.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/admin_client.h"
#include "support/fixture.h"

namespace courier::it {

class FeatureTest : public CourierTest {
 protected:
  using Opts = std::vector<std::pair<std::string, std::string>>;
  // plugin_opt_admin_users of this test's broker.
  virtual std::string AdminUsers() const { return "admin"; }
  // Plugin options of this test, besides admin_users.
  virtual Opts ExtraOptions() const { return {}; }
  BrokerOptions Options() const override;
  void TearDown() override;

  // The admin connection, connected (and subscribed) on first use.
  AdminClient* Admin();
  // Disconnects and forgets the admin connection (before a broker restart);
  // the next Admin() connects again.
  void DropAdmin();

  struct Pulled {
    std::vector<v1::Message> entries;  // in arrival order
    std::optional<v1::Signal> response;
  };
  // Sends PULL(offset, limit) from `d`, waits for the RESPONSE and returns it
  // with the entries that preceded it on the device's own inbox.
  Pulled Pull(CourierDevice& d, int offset, unsigned limit = 0);

  // Calls `check` about every `step` until it returns true or `timeout`
  // passes; returns whether it did. `check` must itself wait for positive
  // conditions (e.g. a Pull), never sleep.
  static bool Eventually(const std::function<bool()>& check, std::chrono::milliseconds timeout = kWait,
                         std::chrono::milliseconds step = std::chrono::milliseconds(200));

  static std::vector<int> Offsets(const std::vector<v1::Message>& ms);
  static std::vector<int> UserOffsets(const std::vector<v1::Message>& ms);
  static std::vector<std::string> Ids(const std::vector<v1::Message>& ms);

 private:
  std::unique_ptr<AdminClient> admin_;
};

// A Message to a group (to.group set, to.user empty).
v1::Message GroupMessage(const std::string& id, const std::string& group, const std::string& payload);
// An activity Signal to a group.
v1::Signal GroupActivity(const std::string& group, int status);
// A receipt for `offset` of the reader's log, echoing `id`.
v1::Signal ReceiptFor(const std::string& id, int offset, bool received, bool read);

}  // namespace courier::it
