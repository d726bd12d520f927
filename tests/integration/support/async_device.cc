#include "support/async_device.h"

#include <mosquitto.h>
#include <poll.h>

#include <algorithm>
#include <mutex>
#include <thread>

#include "proc/mosquitto_lib.h"

namespace courier::it {
namespace {

constexpr int kKeepAliveSeconds = 60;
constexpr auto kFirstBackoff = std::chrono::milliseconds(20);
constexpr auto kMaxBackoff = std::chrono::milliseconds(320);
// Upper bound of reads per device and round, so one busy device cannot
// starve the others (and a bug cannot spin forever).
constexpr int kMaxReadsPerRound = 4096;

bool Readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

}  // namespace

AsyncDevice::AsyncDevice(std::string user, std::string device, std::vector<std::string> topics)
    : user_(std::move(user)), device_(std::move(device)), topics_(std::move(topics)) {
  proc::MosquittoLibInit();
}

AsyncDevice::~AsyncDevice() { Drop(); }

void AsyncDevice::Drop() {
  if (mosq_ != nullptr) {
    if (!lost_) mosquitto_disconnect(mosq_);
    mosquitto_destroy(mosq_);
    mosq_ = nullptr;
  }
  lost_ = false;
  ready_ = false;
  pending_subacks_ = 0;
}

bool AsyncDevice::Connect(int port) {
  Drop();
  mosq_ = mosquitto_new(device_.c_str(), true, this);
  if (mosq_ == nullptr) return false;
  mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  mosquitto_connect_callback_set(mosq_, &AsyncDevice::OnConnect);
  mosquitto_disconnect_callback_set(mosq_, &AsyncDevice::OnDisconnect);
  mosquitto_subscribe_callback_set(mosq_, &AsyncDevice::OnSubscribe);
  mosquitto_message_callback_set(mosq_, &AsyncDevice::OnMessage);
  mosquitto_username_pw_set(mosq_, user_.c_str(), nullptr);
  if (mosquitto_connect(mosq_, "127.0.0.1", port, kKeepAliveSeconds) != MOSQ_ERR_SUCCESS) {
    mosquitto_destroy(mosq_);
    mosq_ = nullptr;
    return false;
  }
  return true;
}

void AsyncDevice::KeepConnected(int port) {
  if (alive()) return;
  const auto now = Clock::now();
  if (now < next_attempt_) return;
  if (Connect(port)) {
    // The backoff resets in OnSubscribe, once the connection is usable.
    next_attempt_ = now;
    return;
  }
  ++connect_failures_;
  backoff_ = backoff_.count() == 0 ? kFirstBackoff : std::min(backoff_ * 2, kMaxBackoff);
  next_attempt_ = now + backoff_;
}

bool AsyncDevice::TakeJustReady() {
  bool r = just_ready_;
  just_ready_ = false;
  return r;
}

bool AsyncDevice::Publish(const std::string& topic, const std::string& bytes) {
  if (!ready_ || mosq_ == nullptr) return false;
  int mid = 0;
  return mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(bytes.size()), bytes.data(), 1, false) ==
         MOSQ_ERR_SUCCESS;
}

std::vector<Received> AsyncDevice::Take() {
  std::vector<Received> out;
  out.swap(received_);
  return out;
}

int AsyncDevice::socket() const { return alive() ? mosquitto_socket(mosq_) : -1; }

bool AsyncDevice::want_write() const { return alive() && mosquitto_want_write(mosq_); }

void AsyncDevice::Service(bool readable, bool writable) {
  if (!alive()) return;
  if (readable) {
    for (int i = 0; i < kMaxReadsPerRound && alive(); ++i) {
      if (mosquitto_loop_read(mosq_, 1) != MOSQ_ERR_SUCCESS) {
        lost_ = true;
        ready_ = false;
        break;
      }
      int fd = mosquitto_socket(mosq_);
      if (fd < 0 || !Readable(fd)) break;
    }
  }
  if (alive() && (writable || mosquitto_want_write(mosq_))) {
    int rc = mosquitto_loop_write(mosq_, 1);
    if (rc != MOSQ_ERR_SUCCESS && rc != MOSQ_ERR_NO_CONN) {
      lost_ = true;
      ready_ = false;
    }
  }
  if (alive() && mosquitto_loop_misc(mosq_) != MOSQ_ERR_SUCCESS) {
    lost_ = true;
    ready_ = false;
  }
  if (alive() && mosquitto_socket(mosq_) < 0) {
    lost_ = true;
    ready_ = false;
  }
}

void AsyncDevice::OnConnect(struct mosquitto* mosq, void* self, int rc) {
  auto* d = static_cast<AsyncDevice*>(self);
  if (rc != 0) {
    d->lost_ = true;
    return;
  }
  d->pending_subacks_ = 0;
  for (const auto& topic : d->topics_) {
    if (mosquitto_subscribe(mosq, nullptr, topic.c_str(), 1) == MOSQ_ERR_SUCCESS) {
      ++d->pending_subacks_;
    } else {
      d->lost_ = true;
      return;
    }
  }
  if (d->pending_subacks_ == 0) {
    d->ready_ = d->just_ready_ = true;
    ++d->connects_;
  }
}

void AsyncDevice::OnDisconnect(struct mosquitto*, void* self, int) {
  auto* d = static_cast<AsyncDevice*>(self);
  d->lost_ = true;
  d->ready_ = false;
}

void AsyncDevice::OnSubscribe(struct mosquitto*, void* self, int, int count, const int* granted) {
  auto* d = static_cast<AsyncDevice*>(self);
  if (count < 1 || granted == nullptr || granted[0] > 2) {
    d->lost_ = true;  // refused: a test bug; the device never becomes ready
    return;
  }
  if (--d->pending_subacks_ == 0) {
    d->ready_ = d->just_ready_ = true;
    d->backoff_ = std::chrono::milliseconds(0);
    ++d->connects_;
  }
}

void AsyncDevice::OnMessage(struct mosquitto*, void* self, const struct mosquitto_message* msg) {
  auto* d = static_cast<AsyncDevice*>(self);
  d->received_.push_back(ReceivedOf(msg));
}

void PumpAll(const std::vector<AsyncDevice*>& devices, std::chrono::milliseconds timeout) {
  std::vector<pollfd> fds;
  std::vector<AsyncDevice*> owners;
  for (auto* d : devices) {
    int fd = d->socket();
    if (fd < 0) continue;
    short events = POLLIN;
    if (d->want_write()) events |= POLLOUT;
    fds.push_back(pollfd{fd, events, 0});
    owners.push_back(d);
  }
  if (fds.empty()) {
    std::this_thread::sleep_for(timeout);
    return;
  }
  ::poll(fds.data(), fds.size(), static_cast<int>(timeout.count()));
  for (size_t i = 0; i < fds.size(); ++i) {
    const bool readable = (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
    const bool writable = (fds[i].revents & POLLOUT) != 0;
    owners[i]->Service(readable, writable);
  }
}

}  // namespace courier::it
