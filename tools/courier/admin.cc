// `courier admin`: one request to the plugin's $CONTROL/courier/v1 API.
//
// Publishes {"commands":[{...,"correlationData":X}]} to $CONTROL/courier/v1
// and waits on $CONTROL/courier/v1/response for {"responses":[...]} holding
// the same command and correlationData. Prints its "data" (compact JSON, or
// indented with --pretty); an "error" in it exits 3.
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <mosquitto.h>
#include <nlohmann/json.hpp>

#include "args.h"
#include "commands.h"
#include "connection.h"
#include "print.h"
#include "session.h"

namespace courier::cli {
namespace {

constexpr const char* kRequestTopic = "$CONTROL/courier/v1";
constexpr const char* kResponseTopic = "$CONTROL/courier/v1/response";

std::string dump(const nlohmann::json& j, bool pretty) { return pretty ? j.dump(2) : j.dump(); }

}  // namespace

int run_admin(const AdminOptions& o) {
  const auto deadline = Clock::now() + to_ms(o.timeout_s);
  const client::Options& c = o.common.client;
  SessionOptions so;
  so.host = c.host;
  so.port = c.port;
  so.user = c.user;
  so.password = c.password;
  so.client_id = c.device;
  so.tls = c.tls;
  so.keepalive_s = c.keepalive_s;

  Session session(so);
  session.connect(deadline);
  try {
    session.subscribe({kResponseTopic}, deadline);
  } catch (const ConnectionError& e) {
    if (!session.connected()) throw;
    emit_err(fmt::format("error: not_authorized: {} (is {} in plugin_opt_admin_users?)", e.what(), c.user));
    session.disconnect();
    return kExitRejected;
  }
  const int mid = session.publish(kRequestTopic, o.request);

  const bool raw = o.command.empty();
  while (Clock::now() < deadline) {
    if (!session.poll(std::chrono::milliseconds(100))) {
      throw ConnectionError("connection lost while waiting for the response");
    }
    if (int reason = session.refused(mid); reason != 0) {
      emit_err(
          fmt::format("error: not_authorized: the broker refused the request: {} (is {} in "
                      "plugin_opt_admin_users?)",
                      mosquitto_reason_string(reason), c.user));
      session.disconnect();
      return kExitRejected;
    }
    for (const Incoming& in : session.take_incoming()) {
      if (in.topic != kResponseTopic) continue;
      const nlohmann::json reply = nlohmann::json::parse(in.payload, nullptr, false);
      if (reply.is_discarded() || !reply.is_object()) continue;
      if (raw) {
        emit(dump(reply, o.pretty));
        session.disconnect();
        return kExitOk;
      }
      const auto responses = reply.find("responses");
      if (responses == reply.end() || !responses->is_array()) continue;
      for (const auto& r : *responses) {
        if (!r.is_object() || r.value("command", "") != o.command || r.value("correlationData", "") != o.correlation) {
          continue;
        }
        session.disconnect();
        if (auto err = r.find("error"); err != r.end()) {
          emit_err(fmt::format("error: {}", err->is_string() ? err->get<std::string>() : err->dump()));
          return kExitRejected;
        }
        if (auto data = r.find("data"); data != r.end()) emit(dump(*data, o.pretty));
        return kExitOk;
      }
    }
  }
  emit_err(
      fmt::format("error: timeout: no response on {} (does the plugin have the admin API, "
                  "and is {} in plugin_opt_admin_users?)",
                  kResponseTopic, c.user));
  session.disconnect();
  return kExitTimeout;
}

// The `admin` command: its help, its arguments, its entry in main.cc's table.
namespace {

constexpr std::string_view kAdminUsage = R"(usage: courier admin [options] COMMAND [ARGS...]

Runs one command of the $CONTROL/courier/v1 API and prints its `data` as one
line of JSON (nothing for commands without data). Only users listed in the
broker's plugin_opt_admin_users may use it.

Commands:
  create-group GROUP [MEMBER...]   createGroup
  delete-group GROUP               deleteGroup
  add-member GROUP USER            addGroupMember
  remove-member GROUP USER         removeGroupMember
  list-groups                      listGroups   -> {"groups":[...]}
  get-group GROUP                  getGroup     -> {"group":..,"members":[...]}
  get-user USER                    getUser      -> {"user":..,"head":..,"devices":[...],"undelivered":..}
  stats                            getStats     -> {counters...}
  raw JSON                         send JSON ({"commands":[{...}]}) as it is; prints the
                                   whole response

Admin options:
      --pretty          indent the JSON
      --timeout S       give up after S seconds (default 10)
)";

AdminOptions parse_admin(Args& args) {
  AdminOptions o;
  std::vector<std::string> words;
  parse_options(kAdminCommand, args, &o.common, [&](std::string_view a, bool positional) {
    if (positional) {
      words.emplace_back(a);
    } else if (a == "--pretty") {
      o.pretty = true;
    } else if (a == "--timeout") {
      o.timeout_s = parse_seconds(a, args.value(a));
    } else {
      return false;
    }
    return true;
  });
  if (words.empty()) throw UsageError("COMMAND is required");
  const std::string sub = words[0];
  const std::vector<std::string> rest(words.begin() + 1, words.end());
  auto need = [&](size_t min, size_t max, const char* shape) {
    if (rest.size() < min || rest.size() > max) {
      throw UsageError(fmt::format("usage: courier admin {} {}", sub, shape));
    }
  };
  nlohmann::json cmd;
  if (sub == "create-group") {
    need(1, SIZE_MAX, "GROUP [MEMBER...]");
    cmd = {{"command", "createGroup"}, {"group", rest[0]}};
    if (rest.size() > 1) cmd["members"] = std::vector<std::string>(rest.begin() + 1, rest.end());
  } else if (sub == "delete-group") {
    need(1, 1, "GROUP");
    cmd = {{"command", "deleteGroup"}, {"group", rest[0]}};
  } else if (sub == "add-member") {
    need(2, 2, "GROUP USER");
    cmd = {{"command", "addGroupMember"}, {"group", rest[0]}, {"user", rest[1]}};
  } else if (sub == "remove-member") {
    need(2, 2, "GROUP USER");
    cmd = {{"command", "removeGroupMember"}, {"group", rest[0]}, {"user", rest[1]}};
  } else if (sub == "list-groups") {
    need(0, 0, "");
    cmd = {{"command", "listGroups"}};
  } else if (sub == "get-group") {
    need(1, 1, "GROUP");
    cmd = {{"command", "getGroup"}, {"group", rest[0]}};
  } else if (sub == "get-user") {
    need(1, 1, "USER");
    cmd = {{"command", "getUser"}, {"user", rest[0]}};
  } else if (sub == "stats") {
    need(0, 0, "");
    cmd = {{"command", "getStats"}};
  } else if (sub == "raw") {
    need(1, 1, "JSON");
    nlohmann::json req = nlohmann::json::parse(rest[0], nullptr, false);
    if (req.is_discarded() || !req.is_object()) throw UsageError("raw: JSON must be an object");
    o.request = req.dump();
    return o;
  } else {
    throw UsageError(fmt::format("unknown admin command '{}'", sub));
  }
  o.command = cmd["command"];
  o.correlation = client::RandomId();
  cmd["correlationData"] = o.correlation;
  o.request = nlohmann::json{{"commands", nlohmann::json::array({cmd})}}.dump();
  return o;
}

int admin_main(Args& args) {
  const AdminOptions o = parse_admin(args);
  MosquittoLibrary lib;
  return run_admin(o);
}

}  // namespace

const Command kAdminCommand{
    "admin",           "groups, users and stats through the $CONTROL API (admin users only)",
    kAdminUsage,
    /*connects=*/true, &admin_main,
};

}  // namespace courier::cli
