// The compatibility scenarios: ordinary MQTT 5 traffic outside Courier's
// prefix (QoS 0/1/2, retained messages, wills, persistent sessions with
// offline queueing and message expiry, $SYS, shared subscriptions, MQTT 5
// properties and request/response, topic aliases, and the deployment's own
// access rules).
//
// A scenario runs against one broker and returns an Outcome: one line per
// observable fact (every SUBACK and PUBACK/PUBREC reason code, every
// delivery with its QoS, retain flag and properties, the session-present
// flag), in an order that does not depend on timing. The suite runs each
// scenario against a broker with Courier and one without and requires both
// outcomes to equal each other and the scenario's expected outcome for that
// deployment, so a broken broker cannot pass by being broken twice.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "support/deployment.h"

namespace courier::it {

using Outcome = std::vector<std::string>;

struct Scenario {
  std::string name;
  std::function<Outcome(DeployedBroker&)> run;
  std::function<Outcome(Deployment)> expected;
};

const std::vector<Scenario>& CompatScenarios();

}  // namespace courier::it
