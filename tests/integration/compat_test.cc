// The compatibility suite: ordinary MQTT traffic outside Courier's prefix
// behaves the same with and without Courier, beside each kind of Mosquitto
// security (support/deployment.h), with plugin_opt_other_topics at its
// default.
//
// Each test runs one scenario (support/compat_scenarios.h) against two real
// brokers of one deployment, one with Courier and one without, and asserts
// that both outcomes are equal AND equal to the scenario's expected outcome.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdio>

#include <sstream>
#include <string>
#include <tuple>

#include "support/compat_scenarios.h"
#include "support/deployment.h"

namespace courier::it {
namespace {

std::string Show(const Outcome& o) {
  std::ostringstream s;
  for (const auto& l : o) s << "    " << l << "\n";
  return s.str();
}

class CompatTest : public ::testing::TestWithParam<std::tuple<Deployment, size_t>> {};

TEST_P(CompatTest, SameWithAndWithoutCourier) {
  const auto [deployment, index] = GetParam();
  const Scenario& scenario = CompatScenarios()[index];

  DeployedBroker with(deployment, true);
  ASSERT_TRUE(with.Start());
  const Outcome with_courier = scenario.run(with);

  DeployedBroker without(deployment, false);
  ASSERT_TRUE(without.Start());
  const Outcome without_courier = scenario.run(without);

  const Outcome expected = scenario.expected(deployment);
  EXPECT_EQ(with_courier, without_courier) << "with Courier:\n"
                                           << Show(with_courier) << "without Courier:\n"
                                           << Show(without_courier);
  EXPECT_EQ(without_courier, expected) << "without Courier:\n"
                                       << Show(without_courier) << "expected:\n"
                                       << Show(expected);
  EXPECT_EQ(with_courier, expected) << "with Courier:\n" << Show(with_courier) << "expected:\n" << Show(expected);
  if (HasFailure()) ADD_FAILURE() << "broker log with Courier:\n" << with.broker().log();
}

std::string ParamName(const ::testing::TestParamInfo<std::tuple<Deployment, size_t>>& info) {
  std::string name = std::string(Name(std::get<0>(info.param))) + "_" + CompatScenarios()[std::get<1>(info.param)].name;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(AllDeployments, CompatTest,
                         ::testing::Combine(::testing::ValuesIn(AllDeployments()),
                                            ::testing::Range<size_t>(0, CompatScenarios().size())),
                         ParamName);

}  // namespace
}  // namespace courier::it
