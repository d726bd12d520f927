#include "support/mqtt_client.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include <algorithm>
#include <mutex>

#include "proc/mosquitto_lib.h"

namespace courier::it {
namespace {

constexpr int kKeepAliveSeconds = 30;

}  // namespace

TestClient::TestClient() { proc::MosquittoLibInit(); }

TestClient::~TestClient() { Disconnect(); }

::testing::AssertionResult TestClient::Connect(int port, const std::string& username, const std::string& client_id,
                                               bool clean_session) {
  Login login;
  login.username = username;
  login.client_id = client_id;
  return Connect(port, login, clean_session, nullptr);
}

::testing::AssertionResult TestClient::Connect(int port, const Login& login, int* connack) {
  return Connect(port, login, true, connack);
}

::testing::AssertionResult TestClient::Connect(int port, const Login& login, bool clean_session, int* connack) {
  Disconnect();
  subscriptions_.clear();
  port_ = port;
  login_ = login;
  clean_session_ = clean_session;
  const std::string who = "'" + login.username + "'/'" + login.client_id + "'";
  {
    std::lock_guard lock(mu_);
    connack_rc_ = -1;
    is_connected_ = false;
    pub_reasons_.clear();
    subacks_.clear();
  }

  mosq_ = mosquitto_new(login.client_id.c_str(), clean_session, this);
  if (mosq_ == nullptr) return ::testing::AssertionFailure() << "mosquitto_new failed";
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION,
                       login.protocol == kMqtt5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
  mosquitto_connect_v5_callback_set(mosq_, &TestClient::OnConnect);
  mosquitto_disconnect_v5_callback_set(mosq_, &TestClient::OnDisconnect);
  mosquitto_publish_v5_callback_set(mosq_, &TestClient::OnPublish);
  mosquitto_subscribe_v5_callback_set(mosq_, &TestClient::OnSubscribe);
  mosquitto_message_v5_callback_set(mosq_, &TestClient::OnMessage);
  mosquitto_reconnect_delay_set(mosq_, 1, 1, false);
  if (!login.username.empty()) {
    int rc = mosquitto_username_pw_set(mosq_, login.username.c_str(),
                                       login.password.empty() ? nullptr : login.password.c_str());
    if (rc != MOSQ_ERR_SUCCESS) {
      return ::testing::AssertionFailure() << "username_pw_set: " << mosquitto_strerror(rc);
    }
  }
  int rc = mosquitto_connect(mosq_, "127.0.0.1", port, kKeepAliveSeconds);
  if (rc != MOSQ_ERR_SUCCESS) {
    return ::testing::AssertionFailure() << "mosquitto_connect(" << port << ") as " << who << ": "
                                         << mosquitto_strerror(rc);
  }
  rc = mosquitto_loop_start(mosq_);
  if (rc != MOSQ_ERR_SUCCESS) { return ::testing::AssertionFailure() << "loop_start: " << mosquitto_strerror(rc); }
  loop_running_ = true;

  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, kWait, [&] { return connack_rc_ >= 0; })) {
    return ::testing::AssertionFailure() << "no CONNACK for " << who;
  }
  if (connack != nullptr) {
    *connack = connack_rc_;
    return ::testing::AssertionSuccess();
  }
  if (connack_rc_ != 0) {
    return ::testing::AssertionFailure() << "connection refused for " << who << ": CONNACK " << connack_rc_ << " ("
                                         << (login.protocol == kMqtt5 ? mosquitto_reason_string(connack_rc_)
                                                                      : mosquitto_connack_string(connack_rc_))
                                         << ")";
  }
  return ::testing::AssertionSuccess();
}

void TestClient::Disconnect() {
  if (mosq_ == nullptr) return;
  proc::CloseMosquitto(&mosq_, &loop_running_);
  std::lock_guard lock(mu_);
  is_connected_ = false;
}

::testing::AssertionResult TestClient::Reconnect(std::optional<int> port) {
  auto subs = subscriptions_;
  auto result = Connect(port.value_or(port_), login_, clean_session_, nullptr);
  if (!result) return result;
  subscriptions_.clear();
  if (clean_session_) {
    for (const auto& [topic, qos] : subs) {
      auto sub = Subscribe(topic, qos);
      if (!sub) return sub;
    }
  } else {
    subscriptions_ = subs;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult TestClient::SubscribeGranted(const std::string& topic, int qos, int* granted) {
  if (mosq_ == nullptr) return ::testing::AssertionFailure() << "not connected";
  int mid = 0;
  int rc = mosquitto_subscribe(mosq_, &mid, topic.c_str(), qos);
  if (rc != MOSQ_ERR_SUCCESS) {
    return ::testing::AssertionFailure() << "subscribe " << topic << ": " << mosquitto_strerror(rc);
  }
  std::unique_lock lock(mu_);
  auto find = [&] {
    return std::find_if(subacks_.begin(), subacks_.end(), [&](const auto& s) { return s.first == mid; });
  };
  if (!cv_.wait_for(lock, kWait, [&] { return find() != subacks_.end(); })) {
    return ::testing::AssertionFailure() << "no SUBACK for " << topic;
  }
  auto it = find();
  *granted = it->second;
  subacks_.erase(it);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult TestClient::Subscribe(const std::string& topic, int qos) {
  int granted = -1;
  auto result = SubscribeGranted(topic, qos, &granted);
  if (!result) return result;
  if (granted < 0 || granted > 2) {
    return ::testing::AssertionFailure() << "subscription to " << topic << " refused (granted " << granted << ")";
  }
  subscriptions_.emplace_back(topic, qos);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult TestClient::Publish(const std::string& topic, const std::string& bytes, int qos) {
  int reason = 0;
  return Publish(topic, bytes, qos, &reason);
}

::testing::AssertionResult TestClient::Publish(const std::string& topic, const std::string& bytes, int qos,
                                               int* reason) {
  if (mosq_ == nullptr) return ::testing::AssertionFailure() << "not connected";
  int mid = 0;
  int rc = mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(bytes.size()), bytes.data(), qos, false);
  if (rc != MOSQ_ERR_SUCCESS) {
    return ::testing::AssertionFailure() << "publish " << topic << ": " << mosquitto_strerror(rc);
  }
  *reason = 0;
  if (qos == 0) return ::testing::AssertionSuccess();
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, kWait, [&] { return pub_reasons_.count(mid) != 0; })) {
    return ::testing::AssertionFailure() << "no PUBACK/PUBCOMP for publish to " << topic;
  }
  *reason = pub_reasons_[mid];
  pub_reasons_.erase(mid);
  return ::testing::AssertionSuccess();
}

std::optional<Received> TestClient::WaitFor(const Predicate& pred, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  std::optional<Received> found;
  cv_.wait_for(lock, timeout, [&] {
    auto it = std::find_if(queue_.begin(), queue_.end(), pred);
    if (it == queue_.end()) return false;
    found = std::move(*it);
    queue_.erase(it);
    return true;
  });
  return found;
}

std::vector<Received> TestClient::WaitForCount(const std::string& topic, size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  auto count = [&] {
    return static_cast<size_t>(
        std::count_if(queue_.begin(), queue_.end(), [&](const Received& r) { return r.topic == topic; }));
  };
  cv_.wait_for(lock, timeout, [&] { return count() >= n; });
  std::vector<Received> out;
  for (auto it = queue_.begin(); it != queue_.end() && out.size() < n;) {
    if (it->topic == topic) {
      out.push_back(std::move(*it));
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

std::vector<Received> TestClient::DrainTopic(const std::string& topic) {
  std::lock_guard lock(mu_);
  std::vector<Received> out;
  for (auto it = queue_.begin(); it != queue_.end();) {
    if (it->topic == topic) {
      out.push_back(std::move(*it));
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

std::vector<Received> TestClient::DrainAll() {
  std::lock_guard lock(mu_);
  std::vector<Received> out(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
  queue_.clear();
  return out;
}

std::vector<Received> TestClient::Snapshot() const {
  std::lock_guard lock(mu_);
  return {queue_.begin(), queue_.end()};
}

bool TestClient::connected() const {
  std::lock_guard lock(mu_);
  return is_connected_;
}

// ---- callbacks: network thread ------------------------------------------------

void TestClient::OnConnect(struct mosquitto*, void* self, int rc, int, const mosquitto_property*) {
  auto* c = static_cast<TestClient*>(self);
  {
    std::lock_guard lock(c->mu_);
    c->connack_rc_ = rc;
    c->is_connected_ = rc == 0;
  }
  c->cv_.notify_all();
}

void TestClient::OnDisconnect(struct mosquitto*, void* self, int, const mosquitto_property*) {
  auto* c = static_cast<TestClient*>(self);
  {
    std::lock_guard lock(c->mu_);
    c->is_connected_ = false;
  }
  c->cv_.notify_all();
}

void TestClient::OnPublish(struct mosquitto*, void* self, int mid, int reason, const mosquitto_property*) {
  auto* c = static_cast<TestClient*>(self);
  try {
    std::lock_guard lock(c->mu_);
    c->pub_reasons_[mid] = reason;
  } catch (...) {
    // See OnMessage.
  }
  c->cv_.notify_all();
}

void TestClient::OnSubscribe(struct mosquitto*, void* self, int mid, int count, const int* granted,
                             const mosquitto_property*) {
  auto* c = static_cast<TestClient*>(self);
  try {
    std::lock_guard lock(c->mu_);
    c->subacks_.emplace_back(mid, count > 0 && granted != nullptr ? granted[0] : -1);
  } catch (...) {
    // See OnMessage.
  }
  c->cv_.notify_all();
}

Received ReceivedOf(const struct mosquitto_message* msg) {
  Received r;
  r.topic = msg->topic != nullptr ? msg->topic : "";
  if (msg->payload != nullptr && msg->payloadlen > 0) {
    r.payload.assign(static_cast<const char*>(msg->payload), static_cast<size_t>(msg->payloadlen));
  }
  r.qos = msg->qos;
  r.retain = msg->retain;
  return r;
}

void TestClient::OnMessage(struct mosquitto*, void* self, const struct mosquitto_message* msg,
                           const mosquitto_property*) {
  auto* c = static_cast<TestClient*>(self);
  try {
    Received r = ReceivedOf(msg);
    std::lock_guard lock(c->mu_);
    c->queue_.push_back(std::move(r));
  } catch (...) {
    // Out of memory on the network thread: the message is lost and the
    // waiting test times out with a clear failure instead of terminating.
  }
  c->cv_.notify_all();
}

}  // namespace courier::it
