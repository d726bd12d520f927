#include "proc/admin_client.h"

#include <mosquitto.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "proc/mosquitto_lib.h"

namespace courier::proc {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kKeepAliveSeconds = 30;

}  // namespace

AdminClient::AdminClient(std::string host, int port, std::string user, std::string client_id)
    : host_(std::move(host)), port_(port), user_(std::move(user)), client_id_(std::move(client_id)) {
  MosquittoLibInit();
}

AdminClient::~AdminClient() { Disconnect(); }

bool AdminClient::Connect(std::chrono::milliseconds timeout, std::string* error) {
  Disconnect();
  const auto deadline = Clock::now() + timeout;
  {
    std::lock_guard lock(mu_);
    connack_ = -1;
    granted_ = -1;
    replies_.clear();
  }
  mosq_ = mosquitto_new(client_id_.c_str(), true, this);
  if (mosq_ == nullptr) {
    *error = "mosquitto_new failed";
    return false;
  }
  mosquitto_connect_callback_set(mosq_, &AdminClient::OnConnect);
  mosquitto_subscribe_callback_set(mosq_, &AdminClient::OnSubscribe);
  mosquitto_message_callback_set(mosq_, &AdminClient::OnMessage);
  mosquitto_username_pw_set(mosq_, user_.c_str(), nullptr);
  int rc = mosquitto_connect(mosq_, host_.c_str(), port_, kKeepAliveSeconds);
  if (rc != MOSQ_ERR_SUCCESS) {
    *error = "cannot connect for the admin API: " + std::string(mosquitto_strerror(rc));
    return false;
  }
  rc = mosquitto_loop_start(mosq_);
  if (rc != MOSQ_ERR_SUCCESS) {
    *error = "loop_start: " + std::string(mosquitto_strerror(rc));
    return false;
  }
  loop_running_ = true;

  std::unique_lock lock(mu_);
  if (!cv_.wait_until(lock, deadline, [&] { return connack_ >= 0; })) {
    *error = "no CONNACK for the admin user '" + user_ + "'";
    return false;
  }
  if (connack_ != 0) {
    *error = "admin connection refused: " + std::string(mosquitto_connack_string(connack_));
    return false;
  }
  lock.unlock();
  mosquitto_subscribe(mosq_, nullptr, kAdminResponseTopic, 1);
  lock.lock();
  if (!cv_.wait_until(lock, deadline, [&] { return granted_ >= 0; })) {
    *error = "no SUBACK for the admin response topic";
    return false;
  }
  if (granted_ >= 0x80) {
    *error = "admin response topic refused (is the user in plugin_opt_admin_users?)";
    return false;
  }
  return true;
}

void AdminClient::Disconnect() { CloseMosquitto(&mosq_, &loop_running_); }

std::optional<std::string> AdminClient::Call(const std::string& payload, std::chrono::milliseconds timeout,
                                             std::string* error) {
  if (!Send(payload, error)) return std::nullopt;
  auto reply = WaitReply(timeout);
  if (!reply) *error = "no admin reply in time";
  return reply;
}

bool AdminClient::Send(const std::string& payload, std::string* error) {
  if (mosq_ == nullptr) {
    *error = "admin client not connected";
    return false;
  }
  int rc = mosquitto_publish(mosq_, nullptr, kAdminTopic, static_cast<int>(payload.size()), payload.data(), 1, false);
  if (rc != MOSQ_ERR_SUCCESS) {
    *error = "admin publish: " + std::string(mosquitto_strerror(rc));
    return false;
  }
  return true;
}

std::optional<std::string> AdminClient::WaitReply(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, timeout, [&] { return !replies_.empty(); })) return std::nullopt;
  std::string reply = std::move(replies_.front());
  replies_.pop_front();
  return reply;
}

std::vector<std::string> AdminClient::DrainReplies() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out(replies_.begin(), replies_.end());
  replies_.clear();
  return out;
}

void AdminClient::OnConnect(struct mosquitto*, void* self, int rc) {
  auto* c = static_cast<AdminClient*>(self);
  std::lock_guard lock(c->mu_);
  c->connack_ = rc;
  c->cv_.notify_all();
}

void AdminClient::OnSubscribe(struct mosquitto*, void* self, int, int count, const int* granted) {
  auto* c = static_cast<AdminClient*>(self);
  std::lock_guard lock(c->mu_);
  c->granted_ = count < 1 ? 0x80 : granted[0];
  c->cv_.notify_all();
}

void AdminClient::OnMessage(struct mosquitto*, void* self, const struct mosquitto_message* msg) {
  auto* c = static_cast<AdminClient*>(self);
  if (std::string(msg->topic) != kAdminResponseTopic) return;
  std::lock_guard lock(c->mu_);
  c->replies_.emplace_back(static_cast<const char*>(msg->payload), static_cast<size_t>(msg->payloadlen));
  c->cv_.notify_all();
}

bool AdminCall(const std::string& host, int port, const std::string& user, const std::string& payload,
               std::chrono::milliseconds timeout, std::string* reply, std::string* error) {
  // A client id of its own per call, so that calls never take over each
  // other's session.
  static std::atomic<unsigned> calls{0};
  const auto deadline = Clock::now() + timeout;
  AdminClient client(host, port, user,
                     user + "-" + std::to_string(::getpid()) + "-" + std::to_string(calls.fetch_add(1)));
  if (!client.Connect(timeout, error)) return false;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  auto got = client.Call(payload, std::max(left, std::chrono::milliseconds(0)), error);
  if (!got) return false;
  *reply = std::move(*got);
  return true;
}

}  // namespace courier::proc
