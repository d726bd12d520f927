#include "connection.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

namespace courier::cli {
namespace {

std::string describe(int rc) {
  if (rc == MOSQ_ERR_ERRNO) return std::strerror(errno);
  return mosquitto_strerror(rc);
}

std::chrono::milliseconds until(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max(left, std::chrono::milliseconds(0));
}

}  // namespace

MosquittoLibrary::MosquittoLibrary() { mosquitto_lib_init(); }
MosquittoLibrary::~MosquittoLibrary() { mosquitto_lib_cleanup(); }

Session::Session(SessionOptions options) : options_(std::move(options)) {
  mosq_ = mosquitto_new(options_.client_id.c_str(), true, this);
  if (mosq_ == nullptr) { throw ConnectionError(fmt::format("cannot create MQTT client: {}", std::strerror(errno))); }
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
  mosquitto_username_pw_set(mosq_, options_.user.c_str(),
                            options_.password.empty() ? nullptr : options_.password.c_str());
  if (options_.tls) {
    const client::TlsOptions& t = *options_.tls;
    auto opt = [](const std::string& v) { return v.empty() ? nullptr : v.c_str(); };
    int rc = mosquitto_tls_set(mosq_, opt(t.ca_file), opt(t.ca_path), opt(t.cert_file), opt(t.key_file), nullptr);
    if (rc != MOSQ_ERR_SUCCESS) {
      mosquitto_destroy(mosq_);
      throw ConnectionError(fmt::format("TLS files: {}", describe(rc)));
    }
    mosquitto_tls_insecure_set(mosq_, t.insecure);
  }
  mosquitto_connect_v5_callback_set(mosq_, &Session::on_connect);
  mosquitto_disconnect_v5_callback_set(mosq_, &Session::on_disconnect);
  mosquitto_publish_v5_callback_set(mosq_, &Session::on_publish);
  mosquitto_subscribe_v5_callback_set(mosq_, &Session::on_subscribe);
  mosquitto_message_v5_callback_set(mosq_, &Session::on_message);
}

Session::~Session() { mosquitto_destroy(mosq_); }

void Session::connect(Clock::time_point deadline) {
  const std::string where = fmt::format("{}:{}", options_.host, options_.port);
  int rc = mosquitto_connect(mosq_, options_.host.c_str(), options_.port, options_.keepalive_s);
  if (rc != MOSQ_ERR_SUCCESS) { throw ConnectionError(fmt::format("cannot connect to {}: {}", where, describe(rc))); }
  open_ = true;
  while (connack_ < 0) {
    if (Clock::now() >= deadline) { throw ConnectionError(fmt::format("no CONNACK from {} in time", where)); }
    if (!poll(std::min(until(deadline), std::chrono::milliseconds(100))) && connack_ < 0) {
      throw ConnectionError(fmt::format("connection to {} closed before CONNACK", where));
    }
  }
  if (connack_ != 0) {
    throw ConnectionError(fmt::format("{} refused the connection: {}", where, mosquitto_reason_string(connack_)));
  }
}

void Session::subscribe(const std::vector<std::string>& topics, Clock::time_point deadline) {
  std::vector<char*> filters;
  filters.reserve(topics.size());
  for (const auto& t : topics) filters.push_back(const_cast<char*>(t.c_str()));
  int mid = 0;
  int rc = mosquitto_subscribe_multiple(mosq_, &mid, static_cast<int>(filters.size()), filters.data(), 1, 0, nullptr);
  if (rc != MOSQ_ERR_SUCCESS) { throw ConnectionError(fmt::format("cannot subscribe: {}", describe(rc))); }
  while (!subacks_.contains(mid)) {
    if (Clock::now() >= deadline) throw ConnectionError("no SUBACK in time");
    if (!poll(std::min(until(deadline), std::chrono::milliseconds(100)))) {
      throw ConnectionError("connection lost while subscribing");
    }
  }
  const std::vector<int> granted = std::move(subacks_[mid]);
  subacks_.erase(mid);
  for (size_t i = 0; i < topics.size(); ++i) {
    const int code = i < granted.size() ? granted[i] : 0x80;
    if (code >= 0x80) {
      throw ConnectionError(fmt::format("subscription to {} refused: {}", topics[i], mosquitto_reason_string(code)));
    }
  }
}

int Session::publish(const std::string& topic, const std::string& payload) {
  int mid = 0;
  int rc = mosquitto_publish_v5(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, false,
                                nullptr);
  if (rc != MOSQ_ERR_SUCCESS) { throw ConnectionError(fmt::format("cannot publish to {}: {}", topic, describe(rc))); }
  in_flight_.insert(mid);
  return mid;
}

bool Session::poll(std::chrono::milliseconds max_wait) {
  int rc = mosquitto_loop(mosq_, static_cast<int>(std::max<int64_t>(max_wait.count(), 0)), 1);
  if (rc != MOSQ_ERR_SUCCESS) open_ = false;
  return open_;
}

std::vector<Incoming> Session::take_incoming() {
  std::vector<Incoming> out;
  out.swap(incoming_);
  return out;
}

int Session::refused(int mid) const {
  auto it = refused_.find(mid);
  return it == refused_.end() ? 0 : it->second;
}

bool Session::flush(Clock::time_point deadline) {
  while (!in_flight_.empty() && Clock::now() < deadline) {
    if (!poll(std::min(until(deadline), std::chrono::milliseconds(100)))) break;
  }
  return in_flight_.empty();
}

void Session::disconnect() {
  if (!open_) return;
  mosquitto_disconnect_v5(mosq_, MQTT_RC_NORMAL_DISCONNECTION, nullptr);
  const auto deadline = Clock::now() + std::chrono::seconds(1);
  while (Clock::now() < deadline && poll(std::chrono::milliseconds(100))) {}
  open_ = false;
}

void Session::on_connect(mosquitto*, void* self, int rc, int, const mosquitto_property*) {
  static_cast<Session*>(self)->connack_ = rc;
}

void Session::on_disconnect(mosquitto*, void* self, int, const mosquitto_property*) {
  static_cast<Session*>(self)->open_ = false;
}

void Session::on_publish(mosquitto*, void* self, int mid, int reason, const mosquitto_property*) {
  auto* s = static_cast<Session*>(self);
  s->in_flight_.erase(mid);
  if (reason >= 0x80) s->refused_[mid] = reason;
}

void Session::on_subscribe(mosquitto*, void* self, int mid, int count, const int* granted, const mosquitto_property*) {
  static_cast<Session*>(self)->subacks_[mid] = std::vector<int>(granted, granted + count);
}

void Session::on_message(mosquitto*, void* self, const mosquitto_message* msg, const mosquitto_property*) {
  const char* bytes = static_cast<const char*>(msg->payload);
  static_cast<Session*>(self)->incoming_.push_back(
      Incoming{msg->topic, std::string(bytes, bytes ? static_cast<size_t>(msg->payloadlen) : 0)});
}

}  // namespace courier::cli
