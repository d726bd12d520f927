#include "admin.h"

#include <mosquitto.h>

#include <cstdlib>

#include "proc.h"

namespace courier::bench {
namespace {

constexpr const char* kTopic = "$CONTROL/courier/v1";
constexpr const char* kResponse = "$CONTROL/courier/v1/response";

struct Call {
  bool connected = false, subscribed = false, answered = false, failed = false;
  std::string reply, error;
};

}  // namespace

bool AdminCall(const std::string& host, int port, const std::string& user, const std::string& payload,
               double timeout_s, std::string* reply, std::string* error) {
  const int64_t deadline = NowNs() + static_cast<int64_t>(timeout_s * 1e9);
  Call c;
  const std::string id = user + "-" + std::to_string(NowNs() % 1000000);
  mosquitto* m = mosquitto_new(id.c_str(), true, &c);
  if (!m) {
    *error = "mosquitto_new failed";
    return false;
  }
  mosquitto_username_pw_set(m, user.c_str(), nullptr);
  mosquitto_connect_callback_set(m, [](mosquitto*, void* obj, int rc) {
    auto* c = static_cast<Call*>(obj);
    if (rc == 0) c->connected = true;
    else {
      c->failed = true;
      c->error = std::string("admin connection refused: ") + mosquitto_connack_string(rc);
    }
  });
  mosquitto_subscribe_callback_set(m, [](mosquitto*, void* obj, int, int n, const int* granted) {
    auto* c = static_cast<Call*>(obj);
    if (n < 1 || granted[0] >= 0x80) {
      c->failed = true;
      c->error = "admin response topic refused (is the user in plugin_opt_admin_users?)";
    } else {
      c->subscribed = true;
    }
  });
  mosquitto_message_callback_set(m, [](mosquitto*, void* obj, const mosquitto_message* msg) {
    auto* c = static_cast<Call*>(obj);
    if (std::string(msg->topic) == kResponse) {
      c->reply.assign(static_cast<const char*>(msg->payload), static_cast<size_t>(msg->payloadlen));
      c->answered = true;
    }
  });
  bool ok = mosquitto_connect(m, host.c_str(), port, 30) == MOSQ_ERR_SUCCESS;
  if (!ok) c.error = "cannot connect for the admin API";
  bool sent_sub = false, sent = false;
  while (ok && !c.answered && !c.failed && NowNs() < deadline) {
    if (mosquitto_loop(m, 10, 1) != MOSQ_ERR_SUCCESS) {
      c.error = "admin connection lost";
      break;
    }
    if (c.connected && !sent_sub) {
      mosquitto_subscribe(m, nullptr, kResponse, 1);
      sent_sub = true;
    }
    if (c.subscribed && !sent) {
      mosquitto_publish(m, nullptr, kTopic, static_cast<int>(payload.size()), payload.data(), 1, false);
      sent = true;
    }
  }
  mosquitto_disconnect(m);
  mosquitto_destroy(m);
  if (!c.answered) {
    *error = c.error.empty() ? "no admin reply in time" : c.error;
    return false;
  }
  *reply = c.reply;
  return true;
}

double JsonNumber(const std::string& json, const std::string& key) {
  const std::string k = "\"" + key + "\"";
  auto at = json.find(k);
  if (at == std::string::npos) return -1;
  at = json.find(':', at + k.size());
  if (at == std::string::npos) return -1;
  return std::strtod(json.c_str() + at + 1, nullptr);
}

CourierStats FetchStats(const std::string& host, int port) {
  CourierStats s;
  std::string reply, error;
  if (!AdminCall(host, port, kAdminUser, R"({"commands":[{"command":"getStats"}]})", 5, &reply, &error)) return s;
  s.accepted = JsonNumber(reply, "accepted");
  s.commits = JsonNumber(reply, "commits");
  s.commit_us_total = JsonNumber(reply, "commitMicrosTotal");
  s.commit_us_max = JsonNumber(reply, "commitMicrosMax");
  s.deliveries = JsonNumber(reply, "deliveries");
  s.heap_in_use = JsonNumber(reply, "heapInUseBytes");
  s.ok = s.commits >= 0 && s.accepted >= 0;
  return s;
}

}  // namespace courier::bench
