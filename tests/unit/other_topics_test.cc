// DecideOtherTopics: the effective answer for topics outside the prefix and
// the log lines, for every configured value and broker kind.
#include "other_topics.h"

#include <gtest/gtest.h>

#include <string>

namespace courier::plugin {
namespace {

BrokerAccessControl Nothing() { return {}; }
BrokerAccessControl WithAcl() {
  BrokerAccessControl ac;
  ac.acl_files = {"/etc/m.acl"};
  return ac;
}
BrokerAccessControl DynsecFirst() {
  BrokerAccessControl ac;
  ac.other_plugins = {"/usr/lib/dynsec.so"};
  ac.plugins_before_courier = ac.other_plugins;
  return ac;
}

bool Mentions(const LogLine& l, const std::string& s) { return l.text.find(s) != std::string::npos; }

TEST(OtherTopics, AutoAllowsWhenNothingElseDecides) {
  auto d = DecideOtherTopics(OtherTopics::kAuto, "msg", Nothing());
  EXPECT_EQ(d.effective, OtherTopics::kAllow);
  ASSERT_EQ(d.lines.size(), 1u);
  EXPECT_FALSE(d.lines[0].warning);
  EXPECT_TRUE(Mentions(d.lines[0], "topics outside msg/ are allowed"));
  EXPECT_TRUE(Mentions(d.lines[0], "plugin_opt_other_topics auto"));
}

TEST(OtherTopics, AutoDefersToAnAclFileOrAPlugin) {
  for (const auto& ac : {WithAcl(), DynsecFirst()}) {
    auto d = DecideOtherTopics(OtherTopics::kAuto, "chat/v1", ac);
    EXPECT_EQ(d.effective, OtherTopics::kDefer);
    ASSERT_FALSE(d.lines.empty());
    EXPECT_FALSE(d.lines[0].warning);
    EXPECT_TRUE(Mentions(d.lines[0], "topics outside chat/v1/ are left to"));
    EXPECT_TRUE(Mentions(d.lines[0], "plugin_opt_other_topics auto"));
  }
}

TEST(OtherTopics, AutoThatCannotReadTheConfigDefersAndWarns) {
  auto d = DecideOtherTopics(OtherTopics::kAuto, "msg", std::string("cannot read /etc/m.conf"));
  EXPECT_EQ(d.effective, OtherTopics::kDefer);
  ASSERT_EQ(d.lines.size(), 1u);
  EXPECT_TRUE(d.lines[0].warning);
  EXPECT_TRUE(Mentions(d.lines[0], "REFUSED"));
  EXPECT_TRUE(Mentions(d.lines[0], "cannot read /etc/m.conf"));
  EXPECT_TRUE(Mentions(d.lines[0], "plugin_opt_other_topics allow"));
}

TEST(OtherTopics, ExplicitDeferOnABrokerWithoutAclWarnsThatTopicsClose) {
  auto d = DecideOtherTopics(OtherTopics::kDefer, "msg", Nothing());
  EXPECT_EQ(d.effective, OtherTopics::kDefer);
  ASSERT_EQ(d.lines.size(), 1u);
  EXPECT_TRUE(d.lines[0].warning);
  EXPECT_TRUE(Mentions(d.lines[0], "REFUSED to every client"));
  EXPECT_TRUE(Mentions(d.lines[0], "plugin_opt_other_topics"));

  auto with_acl = DecideOtherTopics(OtherTopics::kDefer, "msg", WithAcl());
  EXPECT_EQ(with_acl.effective, OtherTopics::kDefer);
  EXPECT_FALSE(with_acl.lines[0].warning);
  EXPECT_TRUE(Mentions(with_acl.lines[0], "acl_file /etc/m.acl"));
}

TEST(OtherTopics, ExplicitAllowOverAnAclFileWarns) {
  auto d = DecideOtherTopics(OtherTopics::kAllow, "msg", WithAcl());
  EXPECT_EQ(d.effective, OtherTopics::kAllow);
  EXPECT_TRUE(d.lines[0].warning);
  EXPECT_TRUE(Mentions(d.lines[0], "no longer restricts"));
  auto plain = DecideOtherTopics(OtherTopics::kAllow, "msg", Nothing());
  EXPECT_EQ(plain.effective, OtherTopics::kAllow);
  EXPECT_FALSE(plain.lines[0].warning);
}

TEST(OtherTopics, APluginListedBeforeCourierIsNamed) {
  auto d = DecideOtherTopics(OtherTopics::kAuto, "msg", DynsecFirst());
  ASSERT_EQ(d.lines.size(), 2u);
  EXPECT_TRUE(d.lines[1].warning);
  EXPECT_TRUE(Mentions(d.lines[1], "/usr/lib/dynsec.so is listed before Courier"));
}

TEST(OtherTopics, EveryOutcomeHasExactlyOneLineAboutOutsideTopicsFirst) {
  for (auto configured : {OtherTopics::kAuto, OtherTopics::kDefer, OtherTopics::kAllow}) {
    for (const auto& scan : std::vector<std::variant<BrokerAccessControl, std::string>>{
             Nothing(), WithAcl(), DynsecFirst(), std::string("unreadable")}) {
      auto d = DecideOtherTopics(configured, "msg", scan);
      EXPECT_NE(d.effective, OtherTopics::kAuto);
      ASSERT_FALSE(d.lines.empty());
      EXPECT_TRUE(Mentions(d.lines[0], "topics outside msg/"));
      EXPECT_TRUE(Mentions(d.lines[0], "plugin_opt_other_topics"));
      int about_outside = 0;
      for (const auto& l : d.lines) about_outside += Mentions(l, "topics outside msg/");
      EXPECT_EQ(about_outside, 1);
    }
  }
}

}  // namespace
}  // namespace courier::plugin
