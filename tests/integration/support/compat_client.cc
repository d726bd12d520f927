#include "support/compat_client.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include <cstdlib>
#include <cstring>

#include "proc/mosquitto_lib.h"

namespace courier::it {
namespace {

using namespace std::chrono_literals;
constexpr auto kAckWait = 10s;

Props ReadProps(const mosquitto_property* props) {
  Props out;
  char* name = nullptr;
  char* value = nullptr;
  for (const mosquitto_property* p =
           mosquitto_property_read_string_pair(props, MQTT_PROP_USER_PROPERTY, &name, &value, false);
       p != nullptr; p = mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &name, &value, true)) {
    out.user.emplace_back(name, value);
    std::free(name);
    std::free(value);
    name = value = nullptr;
  }
  char* s = nullptr;
  if (mosquitto_property_read_string(props, MQTT_PROP_CONTENT_TYPE, &s, false)) {
    out.content_type = s;
    std::free(s);
  }
  s = nullptr;
  if (mosquitto_property_read_string(props, MQTT_PROP_RESPONSE_TOPIC, &s, false)) {
    out.response_topic = s;
    std::free(s);
  }
  void* bin = nullptr;
  uint16_t len = 0;
  if (mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA, &bin, &len, false)) {
    out.correlation.assign(static_cast<const char*>(bin), len);
    std::free(bin);
  }
  uint32_t expiry = 0;
  if (mosquitto_property_read_int32(props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, &expiry, false)) {
    out.message_expiry = expiry;
  }
  uint8_t format = 0;
  if (mosquitto_property_read_byte(props, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, &format, false)) {
    out.payload_format = format;
  }
  return out;
}

// Builds the property list of a publish; the caller frees it.
mosquitto_property* MakeProps(const Props& p) {
  mosquitto_property* props = nullptr;
  for (const auto& [k, v] : p.user)
    mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, k.c_str(), v.c_str());
  if (!p.content_type.empty()) mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE, p.content_type.c_str());
  if (!p.response_topic.empty()) {
    mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, p.response_topic.c_str());
  }
  if (!p.correlation.empty()) {
    mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, p.correlation.data(),
                                  static_cast<uint16_t>(p.correlation.size()));
  }
  if (p.message_expiry) mosquitto_property_add_int32(&props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, p.message_expiry);
  if (p.payload_format >= 0) {
    mosquitto_property_add_byte(&props, MQTT_PROP_PAYLOAD_FORMAT_INDICATOR, static_cast<uint8_t>(p.payload_format));
  }
  if (p.topic_alias) mosquitto_property_add_int16(&props, MQTT_PROP_TOPIC_ALIAS, p.topic_alias);
  return props;
}

}  // namespace

CompatClient::CompatClient() { proc::MosquittoLibInit(); }

CompatClient::~CompatClient() { Stop(); }

void CompatClient::Stop() {
  if (!mosq_) return;
  if (loop_running_) mosquitto_loop_stop(mosq_, true);
  loop_running_ = false;
  mosquitto_destroy(mosq_);
  mosq_ = nullptr;
}

::testing::AssertionResult CompatClient::Connect(int port, const ConnectSpec& spec) {
  Stop();
  {
    std::lock_guard lock(mu_);
    connack_ = -1;
    session_present_ = false;
  }
  mosq_ = mosquitto_new(spec.client_id.c_str(), spec.clean_start, this);
  if (!mosq_) return ::testing::AssertionFailure() << "mosquitto_new failed";
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
  mosquitto_connect_v5_callback_set(mosq_, &CompatClient::OnConnect);
  mosquitto_publish_v5_callback_set(mosq_, &CompatClient::OnPublish);
  mosquitto_subscribe_v5_callback_set(mosq_, &CompatClient::OnSubscribe);
  mosquitto_message_v5_callback_set(mosq_, &CompatClient::OnMessage);
  if (!spec.username.empty()) {
    mosquitto_username_pw_set(mosq_, spec.username.c_str(), spec.password.empty() ? nullptr : spec.password.c_str());
  }
  if (!spec.will_topic.empty()) {
    int rc = mosquitto_will_set_v5(mosq_, spec.will_topic.c_str(), static_cast<int>(spec.will_payload.size()),
                                   spec.will_payload.data(), spec.will_qos, spec.will_retain, nullptr);
    if (rc != MOSQ_ERR_SUCCESS) return ::testing::AssertionFailure() << "will: " << mosquitto_strerror(rc);
  }
  mosquitto_property* props = nullptr;
  if (spec.session_expiry) mosquitto_property_add_int32(&props, MQTT_PROP_SESSION_EXPIRY_INTERVAL, spec.session_expiry);
  int rc = mosquitto_connect_bind_v5(mosq_, "127.0.0.1", port, 30, nullptr, props);
  mosquitto_property_free_all(&props);
  if (rc != MOSQ_ERR_SUCCESS) return ::testing::AssertionFailure() << "connect: " << mosquitto_strerror(rc);
  rc = mosquitto_loop_start(mosq_);
  if (rc != MOSQ_ERR_SUCCESS) return ::testing::AssertionFailure() << "loop_start: " << mosquitto_strerror(rc);
  loop_running_ = true;
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, kAckWait, [&] { return connack_ >= 0; })) {
    return ::testing::AssertionFailure() << spec.client_id << ": no CONNACK";
  }
  if (connack_ != 0) return ::testing::AssertionFailure() << spec.client_id << ": CONNACK " << connack_;
  return ::testing::AssertionSuccess();
}

void CompatClient::Disconnect() {
  if (!mosq_) return;
  mosquitto_disconnect_v5(mosq_, 0, nullptr);
  Stop();
}

void CompatClient::DisconnectWithWill() {
  if (!mosq_) return;
  mosquitto_disconnect_v5(mosq_, MQTT_RC_DISCONNECT_WITH_WILL_MSG, nullptr);
  Stop();
}

std::optional<int> CompatClient::Subscribe(const std::string& filter, int qos) {
  if (!mosq_) return std::nullopt;
  int mid = 0;
  if (mosquitto_subscribe_v5(mosq_, &mid, filter.c_str(), qos, 0, nullptr) != MOSQ_ERR_SUCCESS) return std::nullopt;
  std::unique_lock lock(mu_);
  std::optional<int> out;
  cv_.wait_for(lock, kAckWait, [&] {
    for (const auto& [m, r] : acks_) {
      if (m == mid) out = r;
    }
    return out.has_value();
  });
  return out;
}

std::optional<int> CompatClient::Publish(const std::string& topic, const std::string& payload, int qos, bool retain,
                                         const Props& p) {
  if (!mosq_) return std::nullopt;
  mosquitto_property* props = MakeProps(p);
  int mid = 0;
  int rc = mosquitto_publish_v5(mosq_, &mid, topic.empty() ? nullptr : topic.c_str(), static_cast<int>(payload.size()),
                                payload.data(), qos, retain, props);
  mosquitto_property_free_all(&props);
  if (rc != MOSQ_ERR_SUCCESS) return std::nullopt;
  if (qos == 0) return 0;
  std::unique_lock lock(mu_);
  std::optional<int> out;
  cv_.wait_for(lock, kAckWait, [&] {
    for (const auto& [m, r] : acks_) {
      if (m == mid) out = r;
    }
    return out.has_value();
  });
  return out;
}

std::vector<Delivery> CompatClient::Take(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return queue_.size() >= n; });
  std::vector<Delivery> out;
  out.swap(queue_);
  return out;
}

bool CompatClient::session_present() const {
  std::lock_guard lock(mu_);
  return session_present_;
}

void CompatClient::OnConnect(struct mosquitto*, void* self, int rc, int flags, const mosquitto_property*) {
  auto* c = static_cast<CompatClient*>(self);
  std::lock_guard lock(c->mu_);
  c->connack_ = rc;
  c->session_present_ = (flags & 1) != 0;
  c->cv_.notify_all();
}

void CompatClient::OnPublish(struct mosquitto*, void* self, int mid, int reason, const mosquitto_property*) {
  auto* c = static_cast<CompatClient*>(self);
  std::lock_guard lock(c->mu_);
  c->acks_.emplace_back(mid, reason);
  c->cv_.notify_all();
}

void CompatClient::OnSubscribe(struct mosquitto*, void* self, int mid, int count, const int* granted,
                               const mosquitto_property*) {
  auto* c = static_cast<CompatClient*>(self);
  std::lock_guard lock(c->mu_);
  c->acks_.emplace_back(mid, count > 0 ? granted[0] : -1);
  c->cv_.notify_all();
}

void CompatClient::OnMessage(struct mosquitto*, void* self, const struct mosquitto_message* msg,
                             const mosquitto_property* props) {
  auto* c = static_cast<CompatClient*>(self);
  Delivery d{.topic = msg->topic ? msg->topic : "",
             .payload = msg->payloadlen > 0
                            ? std::string(static_cast<const char*>(msg->payload), static_cast<size_t>(msg->payloadlen))
                            : std::string(),
             .qos = msg->qos,
             .retain = msg->retain,
             .props = ReadProps(props)};
  std::lock_guard lock(c->mu_);
  c->queue_.push_back(std::move(d));
  c->cv_.notify_all();
}

}  // namespace courier::it
