// `courier admin`: one request to the plugin's $CONTROL/courier/v1 API.
//
// Publishes {"commands":[{...,"correlationData":X}]} to $CONTROL/courier/v1
// and waits on $CONTROL/courier/v1/response for {"responses":[...]} holding
// the same command and correlationData. Prints its "data" (compact JSON, or
// indented with --pretty); an "error" in it exits 3.
#include <string>

#include <fmt/format.h>
#include <mosquitto.h>
#include <nlohmann/json.hpp>

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
    emit_err(fmt::format("error: not_authorized: {} (is {} in plugin_opt_admin_users?)", e.what(),
                         c.user));
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
      emit_err(fmt::format("error: not_authorized: the broker refused the request: {} (is {} in "
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
        if (!r.is_object() || r.value("command", "") != o.command ||
            r.value("correlationData", "") != o.correlation) {
          continue;
        }
        session.disconnect();
        if (auto err = r.find("error"); err != r.end()) {
          emit_err(fmt::format("error: {}", err->is_string() ? err->get<std::string>()
                                                             : err->dump()));
          return kExitRejected;
        }
        if (auto data = r.find("data"); data != r.end()) emit(dump(*data, o.pretty));
        return kExitOk;
      }
    }
  }
  emit_err(fmt::format("error: timeout: no response on {} (does the plugin have the admin API, "
                       "and is {} in plugin_opt_admin_users?)",
                       kResponseTopic, c.user));
  session.disconnect();
  return kExitTimeout;
}

}  // namespace courier::cli
