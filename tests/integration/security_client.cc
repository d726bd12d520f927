#include "security_client.h"

#include <fcntl.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

extern char** environ;

namespace courier::it {
namespace {

constexpr int kKeepAliveSeconds = 30;

void LibInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

}  // namespace

SecClient::SecClient() { LibInitOnce(); }
SecClient::~SecClient() { Disconnect(); }

::testing::AssertionResult SecClient::Connect(int port, const Login& login, int* connack) {
  Disconnect();
  login_ = login;
  {
    std::lock_guard lock(mu_);
    connack_ = -1;
    pub_reasons_.clear();
    sub_reasons_.clear();
  }
  mosq_ = mosquitto_new(login.client_id.c_str(), true, this);
  if (mosq_ == nullptr) return ::testing::AssertionFailure() << "mosquitto_new failed";
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION,
                       login.protocol == kMqtt5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311);
  mosquitto_connect_v5_callback_set(mosq_, &SecClient::OnConnect);
  mosquitto_publish_v5_callback_set(mosq_, &SecClient::OnPublish);
  mosquitto_subscribe_v5_callback_set(mosq_, &SecClient::OnSubscribe);
  mosquitto_message_v5_callback_set(mosq_, &SecClient::OnMessage);
  if (!login.username.empty()) {
    int rc = mosquitto_username_pw_set(mosq_, login.username.c_str(),
                                       login.password.empty() ? nullptr : login.password.c_str());
    if (rc != MOSQ_ERR_SUCCESS) {
      return ::testing::AssertionFailure() << "username_pw_set: " << mosquitto_strerror(rc);
    }
  }
  int rc = mosquitto_connect(mosq_, "127.0.0.1", port, kKeepAliveSeconds);
  if (rc != MOSQ_ERR_SUCCESS) {
    return ::testing::AssertionFailure() << "mosquitto_connect(" << port << "): " << mosquitto_strerror(rc);
  }
  rc = mosquitto_loop_start(mosq_);
  if (rc != MOSQ_ERR_SUCCESS) return ::testing::AssertionFailure() << "loop_start: " << mosquitto_strerror(rc);
  loop_running_ = true;
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, kWait, [&] { return connack_ >= 0; })) {
    return ::testing::AssertionFailure() << "no CONNACK for " << login.username << "/" << login.client_id;
  }
  if (connack != nullptr) {
    *connack = connack_;
    return ::testing::AssertionSuccess();
  }
  if (connack_ != 0) {
    return ::testing::AssertionFailure() << "connection refused for '" << login.username << "'/'"
                                         << login.client_id << "': CONNACK " << connack_;
  }
  return ::testing::AssertionSuccess();
}

void SecClient::Disconnect() {
  if (mosq_ == nullptr) return;
  mosquitto_disconnect(mosq_);
  if (loop_running_) {
    mosquitto_loop_stop(mosq_, false);
    loop_running_ = false;
  }
  mosquitto_destroy(mosq_);
  mosq_ = nullptr;
}

::testing::AssertionResult SecClient::Subscribe(const std::string& filter, int qos, int* reason) {
  if (mosq_ == nullptr) return ::testing::AssertionFailure() << "not connected";
  int mid = 0;
  int rc = mosquitto_subscribe(mosq_, &mid, filter.c_str(), qos);
  if (rc != MOSQ_ERR_SUCCESS) {
    return ::testing::AssertionFailure() << "subscribe " << filter << ": " << mosquitto_strerror(rc);
  }
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, kWait, [&] { return sub_reasons_.count(mid) != 0; })) {
    return ::testing::AssertionFailure() << "no SUBACK for " << filter;
  }
  *reason = sub_reasons_[mid];
  sub_reasons_.erase(mid);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult SecClient::SubscribeOk(const std::string& filter, int qos) {
  int reason = -1;
  auto r = Subscribe(filter, qos, &reason);
  if (!r) return r;
  if (reason < 0 || reason > 2) {
    return ::testing::AssertionFailure() << "subscription to " << filter << " refused: 0x" << std::hex << reason;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult SecClient::Publish(const std::string& topic, const std::string& bytes, int qos,
                                              int* reason) {
  if (mosq_ == nullptr) return ::testing::AssertionFailure() << "not connected";
  int mid = 0;
  int rc = mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(bytes.size()), bytes.data(), qos,
                             false);
  if (rc != MOSQ_ERR_SUCCESS) {
    return ::testing::AssertionFailure() << "publish " << topic << ": " << mosquitto_strerror(rc);
  }
  if (qos == 0) {
    *reason = 0;
    return ::testing::AssertionSuccess();
  }
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, kWait, [&] { return pub_reasons_.count(mid) != 0; })) {
    return ::testing::AssertionFailure() << "no PUBACK/PUBCOMP for publish to " << topic;
  }
  *reason = pub_reasons_[mid];
  pub_reasons_.erase(mid);
  return ::testing::AssertionSuccess();
}

std::optional<Received> SecClient::WaitFor(const Predicate& pred, std::chrono::milliseconds timeout) {
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

std::vector<Received> SecClient::DrainAll() {
  std::lock_guard lock(mu_);
  std::vector<Received> out(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
  queue_.clear();
  return out;
}

// ---- callbacks: network thread ----------------------------------------------

void SecClient::OnConnect(struct mosquitto*, void* self, int rc, int, const mosquitto_property*) {
  auto* c = static_cast<SecClient*>(self);
  {
    std::lock_guard lock(c->mu_);
    c->connack_ = rc;
  }
  c->cv_.notify_all();
}

void SecClient::OnPublish(struct mosquitto*, void* self, int mid, int reason, const mosquitto_property*) {
  auto* c = static_cast<SecClient*>(self);
  try {
    std::lock_guard lock(c->mu_);
    c->pub_reasons_[mid] = reason;
  } catch (...) {
    // Allocation failure: the waiting test times out and fails.
  }
  c->cv_.notify_all();
}

void SecClient::OnSubscribe(struct mosquitto*, void* self, int mid, int count, const int* granted,
                            const mosquitto_property*) {
  auto* c = static_cast<SecClient*>(self);
  try {
    std::lock_guard lock(c->mu_);
    c->sub_reasons_[mid] = count > 0 ? granted[0] : -1;
  } catch (...) {
  }
  c->cv_.notify_all();
}

void SecClient::OnMessage(struct mosquitto*, void* self, const struct mosquitto_message* msg,
                          const mosquitto_property*) {
  auto* c = static_cast<SecClient*>(self);
  try {
    Received r;
    r.topic = msg->topic ? msg->topic : "";
    r.payload.assign(static_cast<const char*>(msg->payload), static_cast<size_t>(msg->payloadlen));
    r.qos = msg->qos;
    r.retain = msg->retain;
    std::lock_guard lock(c->mu_);
    c->queue_.push_back(std::move(r));
  } catch (...) {
  }
  c->cv_.notify_all();
}

bool RunAndWait(const std::vector<std::string>& argv, std::string* output) {
  char out_tmpl[] = "/tmp/courier-sec-run-XXXXXX";
  int fd = ::mkstemp(out_tmpl);
  if (fd < 0) return false;
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fd, STDERR_FILENO);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fd);
  int status = -1;
  if (rc == 0) {
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  if (output != nullptr) {
    std::ifstream in(out_tmpl);
    std::ostringstream s;
    s << in.rdbuf();
    *output = s.str();
  }
  ::unlink(out_tmpl);
  return rc == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace courier::it
