// AdminClient: the gtest layer over proc::AdminClient (tests/proc), the one
// connection that speaks Courier's admin API ($CONTROL/courier/v1, JSON in
// the shape of Mosquitto's dynamic security plugin). The plugin answers on
// $CONTROL/courier/v1/response, to the asking client id only. This layer
// parses the JSON and turns the command shorthands into AssertionResults.
//
// Ownership: owns its proc::AdminClient. Threads: main test thread only.
// Failures: Connect() returns an AssertionResult; Call() returns std::nullopt
// (after adding no failure itself) when no reply arrives or it is not JSON.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "proc/admin_client.h"
#include "support/mqtt_client.h"

namespace courier::it {

using proc::kAdminResponseTopic;
using proc::kAdminTopic;

class AdminClient {
 public:
  using json = nlohmann::json;

  AdminClient(int port, std::string user, std::string client_id);

  // Connects and subscribes to the response topic.
  ::testing::AssertionResult Connect();
  void Disconnect() { client_.Disconnect(); }
  // Removes and returns the replies that arrived but no call took.
  std::vector<std::string> DrainReplies() { return client_.DrainReplies(); }

  // Publishes `payload` (raw bytes) to the admin topic and waits for the next
  // reply on the response topic. Returns the parsed reply (the whole object).
  std::optional<json> CallRaw(const std::string& payload, std::chrono::milliseconds timeout = kWait);
  // Sends {"commands": commands} and returns the reply's "responses" array.
  std::optional<json> Call(const json& commands);
  // One command; returns its response object (the only element).
  std::optional<json> Command(const json& command);
  // One command that must succeed: no "error" in its response. Returns the
  // response's "data" (null when it has none).
  ::testing::AssertionResult Ok(const json& command, json* data = nullptr);

  // Shorthands for the group commands used by the flow tests.
  ::testing::AssertionResult CreateGroup(const std::string& group, const std::vector<std::string>& members);
  ::testing::AssertionResult AddMember(const std::string& group, const std::string& user);
  ::testing::AssertionResult RemoveMember(const std::string& group, const std::string& user);

 private:
  proc::AdminClient client_;
};

}  // namespace courier::it
