#include "support/deployment.h"

#include <fstream>
#include <sstream>

#include "support/process.h"

#ifndef MOSQUITTO_PASSWD_BIN
#error "MOSQUITTO_PASSWD_BIN must be defined by the build"
#endif
#ifndef MOSQUITTO_CTRL_BIN
#error "MOSQUITTO_CTRL_BIN must be defined by the build"
#endif
#ifndef DYNSEC_PLUGIN_PATH
#error "DYNSEC_PLUGIN_PATH must be defined by the build"
#endif

namespace courier::it {
namespace {

using namespace std::chrono_literals;

constexpr const char* kPassword = "compat-secret";
const std::vector<std::string> kUsers = {"alice", "bob", "carol", "sensor"};

constexpr const char* kAclFile =
    "user alice\n"
    "topic readwrite app/#\n"
    "\n"
    "user bob\n"
    "topic deny app/private/#\n"
    "topic readwrite app/#\n"
    "topic read sensors/#\n"
    "\n"
    "user carol\n"
    "topic readwrite app/#\n"
    "\n"
    "user sensor\n"
    "topic write sensors/#\n";

// The value of "key": "value" (or a number) in mosquitto_ctrl's JSON.
std::string JsonField(const std::string& json, const std::string& key) {
  auto k = json.find("\"" + key + "\"");
  if (k == std::string::npos) return "";
  auto colon = json.find(':', k);
  auto b = json.find_first_not_of(" \t\"", colon + 1);
  auto e = json.find_first_of("\",\n}", b);
  return json.substr(b, e - b);
}

std::string Acl(const std::string& type, const std::string& topic, bool allow) {
  return "{\"acltype\":\"" + type + "\",\"topic\":\"" + topic + "\",\"allow\":" + (allow ? "true" : "false") + "}";
}

// The dynamic-security config: the same rules as kAclFile, as roles. Every
// client gets the one password hash mosquitto_ctrl made (same password,
// same salt). defaultACLAccess is the plugin's own default.
std::string DynsecJson(const std::string& hash, const std::string& salt, const std::string& iterations) {
  auto client = [&](const std::string& user, const std::vector<std::string>& roles) {
    std::string r = "{\"username\":\"" + user + "\",\"password\":\"" + hash + "\",\"salt\":\"" + salt +
                    "\",\"iterations\":" + iterations + ",\"roles\":[";
    for (size_t i = 0; i < roles.size(); ++i) {
      r += (i ? "," : "") + std::string("{\"rolename\":\"") + roles[i] + "\",\"priority\":" + std::to_string(10 - i) +
           "}";
    }
    return r + "]}";
  };
  std::string j = "{\"clients\":[";
  j += client("alice", {"app"}) + ",";
  j += client("bob", {"no-private", "app", "sensor-reader"}) + ",";
  j += client("carol", {"app"}) + ",";
  j += client("sensor", {"sensor"}) + ",";
  j += client("mallory", {"wide"});
  j += "],\"groups\":[],\"roles\":[";
  j += "{\"rolename\":\"app\",\"acls\":[" + Acl("publishClientSend", "app/#", true) + "," +
       Acl("publishClientReceive", "app/#", true) + "," + Acl("subscribePattern", "app/#", true) + "," +
       Acl("subscribePattern", "$share/grp/app/#", true) + "]},";
  j += "{\"rolename\":\"no-private\",\"acls\":[" + Acl("publishClientSend", "app/private/#", false) + "]},";
  j += "{\"rolename\":\"sensor-reader\",\"acls\":[" + Acl("subscribePattern", "sensors/#", true) + "," +
       Acl("publishClientReceive", "sensors/#", true) + "]},";
  j += "{\"rolename\":\"sensor\",\"acls\":[" + Acl("publishClientSend", "sensors/#", true) + "]},";
  // A careless role: publish anywhere. Listed before Courier, dynsec lets
  // it through under msg/ too (coexistence_test shows what still holds).
  j += "{\"rolename\":\"wide\",\"acls\":[" + Acl("publishClientSend", "#", true) + "]}";
  j += "],\"defaultACLAccess\":{\"publishClientSend\":false,\"publishClientReceive\":true,"
       "\"subscribe\":false,\"unsubscribe\":true}}";
  return j;
}

}  // namespace

const char* Name(Deployment d) {
  switch (d) {
    case Deployment::kAnonymous: return "anonymous";
    case Deployment::kPasswordAclFile: return "password_file+acl_file";
    case Deployment::kDynsecFirst: return "dynsec-before-courier";
    case Deployment::kDynsecLast: return "dynsec-after-courier";
    case Deployment::kPerListener: return "per_listener_settings";
  }
  return "?";
}

bool Restricted(Deployment d) {
  return d == Deployment::kPasswordAclFile || d == Deployment::kDynsecFirst || d == Deployment::kDynsecLast;
}

std::vector<Deployment> AllDeployments() {
  return {Deployment::kAnonymous, Deployment::kPasswordAclFile, Deployment::kDynsecFirst, Deployment::kDynsecLast,
          Deployment::kPerListener};
}

DeployedBroker::DeployedBroker(Deployment d, bool with_courier,
                               std::vector<std::pair<std::string, std::string>> courier_opts)
    : deployment_(d), with_courier_(with_courier) {
  BrokerOptions o;
  o.with_plugin = with_courier;
  o.plugin_opts = std::move(courier_opts);
  if (d == Deployment::kPerListener) o.pre_config = {"per_listener_settings true"};
  broker_ = std::make_unique<Broker>(o);
}

::testing::AssertionResult DeployedBroker::WriteFiles() {
  const std::string dir = broker_->data_dir();
  BrokerOptions& o = broker_->options();
  if (deployment_ == Deployment::kPasswordAclFile) {
    const std::string passwd = dir + "/passwd";
    bool first = true;
    for (const auto& user : kUsers) {
      std::vector<std::string> argv = {MOSQUITTO_PASSWD_BIN, "-b"};
      if (first) argv.push_back("-c");
      argv.insert(argv.end(), {passwd, user, kPassword});
      auto r = RunProgram(argv, 30s);
      if (!r) return r;
      first = false;
    }
    std::ofstream(dir + "/acl") << kAclFile;
    o.extra_config = {"allow_anonymous false", "password_file " + passwd, "acl_file " + dir + "/acl"};
  }
  if (deployment_ == Deployment::kDynsecFirst || deployment_ == Deployment::kDynsecLast) {
    const std::string seed = dir + "/dynsec-seed.json";
    auto r = RunProgram({MOSQUITTO_CTRL_BIN, "dynsec", "init", seed, "seed", kPassword}, 30s);
    if (!r) return r;
    std::ifstream in(seed);
    std::stringstream text;
    text << in.rdbuf();
    const std::string json = text.str();
    const std::string hash = JsonField(json, "password"), salt = JsonField(json, "salt");
    const std::string iterations = JsonField(json, "iterations");
    if (hash.empty() || salt.empty() || iterations.empty()) {
      return ::testing::AssertionFailure() << "cannot read mosquitto_ctrl's hash from " << json;
    }
    std::ofstream(dir + "/dynsec.json") << DynsecJson(hash, salt, iterations);
    std::vector<std::string> lines = {std::string("plugin ") + DYNSEC_PLUGIN_PATH,
                                      "plugin_opt_config_file " + dir + "/dynsec.json"};
    o.extra_config = {"allow_anonymous false"};
    auto& where = deployment_ == Deployment::kDynsecFirst ? o.extra_config : o.post_config;
    where.insert(where.end(), lines.begin(), lines.end());
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult DeployedBroker::Start() {
  auto r = WriteFiles();
  if (!r) return r;
  return broker_->Start();
}

ConnectSpec DeployedBroker::Login(const std::string& user, const std::string& client_id) const {
  ConnectSpec spec;
  spec.client_id = client_id;
  spec.username = user;
  if (Restricted(deployment_)) spec.password = kPassword;
  return spec;
}

}  // namespace courier::it
