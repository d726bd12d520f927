// Deployment: the kinds of Mosquitto security Courier is loaded beside, each
// as a real broker configuration (with or without Courier), and how clients
// log in to it.
//
// Every restricted deployment grants the same things, so the scenarios'
// expectations read alike:
//   alice, bob: publish, subscribe and receive app/#; bob may not publish
//               app/private/#; bob may subscribe and receive sensors/#;
//   sensor:     publish sensors/#;
//   dynamic security also grants the shared filter $share/grp/app/# (it
//   checks a shared subscription's filter as written; acl_file checks no
//   subscription at all);
//   nobody:     forbidden/#; anonymous clients are refused;
//   mallory:    (dynamic security only) a role that may publish to '#'.
// Courier's prefix (msg/) is left to Courier: no rule mentions it.
//
// Ownership: a DeployedBroker owns its Broker (support/broker.h: free
// loopback port, temporary directory, ended by pid) and writes its password,
// acl and dynamic-security files into that directory. Main thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/broker.h"
#include "support/compat_client.h"

namespace courier::it {

enum class Deployment {
  kAnonymous,        // allow_anonymous true, nothing else
  kPasswordAclFile,  // password_file + acl_file, allow_anonymous false
  kDynsecFirst,      // dynamic-security's plugin line before Courier's
  kDynsecLast,       // dynamic-security's plugin line after Courier's
  kPerListener,      // per_listener_settings true, anonymous (no tick for Courier)
};

const char* Name(Deployment d);
// Whether the deployment has access rules (then the rules above apply;
// otherwise every client may do everything outside msg/).
bool Restricted(Deployment d);
std::vector<Deployment> AllDeployments();

class DeployedBroker {
 public:
  DeployedBroker(Deployment d, bool with_courier, std::vector<std::pair<std::string, std::string>> courier_opts = {});

  ::testing::AssertionResult Start();
  Broker& broker() { return *broker_; }
  int port() const { return broker_->port(); }
  Deployment deployment() const { return deployment_; }
  bool with_courier() const { return with_courier_; }

  // How `user` logs in here (a password where the deployment has them).
  ConnectSpec Login(const std::string& user, const std::string& client_id) const;

 private:
  ::testing::AssertionResult WriteFiles();

  Deployment deployment_;
  bool with_courier_;
  std::unique_ptr<Broker> broker_;
};

}  // namespace courier::it
