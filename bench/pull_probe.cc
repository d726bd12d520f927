// The restart probe (load.h PullProbe): one client that PULLs a user's log
// from offset 0 and times the RESPONSE.
#include <mosquitto.h>
#include <unistd.h>

#include <string>

#include "load.h"
#include "load_worker.h"
#include "proc.h"

namespace courier::bench {
namespace {

using courier::v1::Signal;
using load::kPull;
using load::kSignalRequest;
using load::kSignalResponse;

struct Probe {
  bool connected = false, subscribed = false, answered = false, failed = false;
  int entries = 0;
  int32_t head = 0;
  std::string dev_events, dev_inbox, error;
};

void SetProbeCallbacks(mosquitto* m) {
  mosquitto_connect_callback_set(m, [](mosquitto*, void* obj, int rc) {
    auto* p = static_cast<Probe*>(obj);
    if (rc == 0)
      p->connected = true;
    else {
      p->failed = true;
      p->error = mosquitto_connack_string(rc);
    }
  });
  mosquitto_subscribe_callback_set(
      m, [](mosquitto*, void* obj, int, int, const int*) { static_cast<Probe*>(obj)->subscribed = true; });
  mosquitto_message_callback_set(m, [](mosquitto*, void* obj, const mosquitto_message* msg) {
    auto* p = static_cast<Probe*>(obj);
    if (p->dev_inbox == msg->topic) {
      ++p->entries;
    } else if (p->dev_events == msg->topic) {
      Signal sig;
      if (sig.ParseFromArray(msg->payload, msg->payloadlen) && sig.type() == kSignalResponse &&
          sig.signal_request() == kPull) {
        p->head = sig.signal_offset();
        p->answered = true;
      } else {
        p->failed = true;
        p->error = "unexpected signal: " + sig.error();
      }
    }
  });
}

void SendProbePull(mosquitto* m, const std::string& user, int limit) {
  Signal sig;
  sig.set_id("probe");
  sig.set_type(kSignalRequest);
  sig.set_signal_request(kPull);
  sig.set_signal_offset(0);
  sig.set_limit(static_cast<uint32_t>(limit));
  std::string b = sig.SerializeAsString();
  const std::string topic = "msg/" + user + "/signal";
  mosquitto_publish(m, nullptr, topic.c_str(), static_cast<int>(b.size()), b.data(), 1, false);
}

}  // namespace

double PullProbe(const std::string& host, int port, const std::string& user, const std::string& device, int limit,
                 double timeout_s, int* entries, int32_t* head, std::string* error) {
  const int64_t start = NowNs();
  const int64_t deadline = start + static_cast<int64_t>(timeout_s * 1e9);
  Probe p;
  p.dev_events = "msg/" + user + "/devices/" + device + "/events";
  p.dev_inbox = "msg/" + user + "/devices/" + device + "/inbox";
  mosquitto* m = mosquitto_new(device.c_str(), true, &p);
  if (!m) {
    *error = "mosquitto_new failed";
    return -1;
  }
  mosquitto_username_pw_set(m, user.c_str(), nullptr);
  mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
  SetProbeCallbacks(m);
  // The port may not accept yet: retry the TCP connect until the deadline.
  bool tcp = false;
  while (!tcp && NowNs() < deadline) {
    tcp = mosquitto_connect(m, host.c_str(), port, 30) == MOSQ_ERR_SUCCESS;
    if (!tcp) ::usleep(1000);
  }
  bool sent_sub = false, sent_pull = false;
  while (tcp && !p.answered && !p.failed && NowNs() < deadline) {
    int rc = mosquitto_loop(m, 5, 1);
    if (rc != MOSQ_ERR_SUCCESS) {
      p.failed = true;
      p.error = std::string("connection: ") + mosquitto_strerror(rc);
      break;
    }
    if (p.connected && !sent_sub) {
      char* topics[2] = {p.dev_events.data(), p.dev_inbox.data()};
      mosquitto_subscribe_multiple(m, nullptr, 2, topics, 1, 0, nullptr);
      sent_sub = true;
    }
    if (p.subscribed && !sent_pull) {
      SendProbePull(m, user, limit);
      sent_pull = true;
    }
  }
  const int64_t end = NowNs();
  mosquitto_disconnect(m);
  mosquitto_destroy(m);
  *entries = p.entries;
  *head = p.head;
  if (!p.answered) {
    *error = p.failed ? p.error : (tcp ? "no PULL response in time" : "port never accepted");
    return -1;
  }
  return double(end - start) / 1e9;
}

}  // namespace courier::bench
