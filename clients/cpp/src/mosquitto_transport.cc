// The libmosquitto transport (see transport.h): MQTT v5 over TCP or TLS
// through a mosquitto handle driven by mosquitto_loop with a zero timeout.
// Ownership: owns the handle (mosquitto_destroy in the destructor).
// Threads: the network thread only; libmosquitto's callbacks run inside
// Loop() and Shutdown() and forward to TransportCallbacks.
#include <poll.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <stdexcept>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "transport.h"

namespace courier::client::detail {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

void LibInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

std::string Describe(int rc) {
  if (rc == MOSQ_ERR_ERRNO) return std::strerror(errno);
  return mosquitto_strerror(rc);
}

class MosquittoTransport final : public Transport {
 public:
  MosquittoTransport(const Options& o, TransportCallbacks cb) : cb_(std::move(cb)) {
    LibInitOnce();
    mosq_ = mosquitto_new(o.device.c_str(), true, this);
    if (mosq_ == nullptr) throw std::runtime_error(std::string("mosquitto_new: ") + std::strerror(errno));
    auto fail = [this](const std::string& what) {
      mosquitto_destroy(mosq_);
      mosq_ = nullptr;
      throw std::invalid_argument(what);
    };
    mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    int rc = mosquitto_username_pw_set(mosq_, o.user.c_str(), o.password.empty() ? nullptr : o.password.c_str());
    if (rc != MOSQ_ERR_SUCCESS) fail("username: " + Describe(rc));
    if (o.tls) {
      const TlsOptions& t = *o.tls;
      auto opt = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
      rc = mosquitto_tls_set(mosq_, opt(t.ca_file), opt(t.ca_path), opt(t.cert_file), opt(t.key_file), nullptr);
      if (rc != MOSQ_ERR_SUCCESS) fail("TLS files: " + Describe(rc));
      mosquitto_tls_insecure_set(mosq_, t.insecure);
    }
    mosquitto_connect_v5_callback_set(mosq_, &CbConnect);
    mosquitto_disconnect_v5_callback_set(mosq_, &CbDisconnect);
    mosquitto_publish_v5_callback_set(mosq_, &CbPublish);
    mosquitto_subscribe_v5_callback_set(mosq_, &CbSubscribe);
    mosquitto_message_v5_callback_set(mosq_, &CbMessage);
  }
  ~MosquittoTransport() override {
    if (mosq_ != nullptr) mosquitto_destroy(mosq_);
  }

  std::string Connect(const std::string& host, int port, int keepalive_s) override {
    const int rc = mosquitto_connect(mosq_, host.c_str(), port, keepalive_s);
    return rc == MOSQ_ERR_SUCCESS ? "" : Describe(rc);
  }
  int Socket() const override { return mosquitto_socket(mosq_); }
  bool WantWrite() const override { return mosquitto_want_write(mosq_); }

  std::string Loop() override {
    // libmosquitto reads only a few packets per call, so go on while the
    // socket still has data.
    for (int i = 0; i < 256; ++i) {
      const int rc = mosquitto_loop(mosq_, 0, 1);
      if (rc != MOSQ_ERR_SUCCESS) return "connection lost: " + Describe(rc);
      const int s = mosquitto_socket(mosq_);
      if (s < 0) return "connection closed";
      pollfd more{s, POLLIN, 0};
      if (::poll(&more, 1, 0) <= 0 || !(more.revents & POLLIN)) break;
    }
    return "";
  }

  std::string Publish(int* mid, const std::string& topic, const std::string& payload, int qos) override {
    const int rc = mosquitto_publish_v5(mosq_, mid, topic.c_str(), static_cast<int>(payload.size()), payload.data(),
                                        qos, false, nullptr);
    return rc == MOSQ_ERR_SUCCESS ? "" : Describe(rc);
  }

  std::string Subscribe(int* mid, const std::vector<std::string>& topics) override {
    std::vector<std::string> copy = topics;
    std::vector<char*> filters;
    for (auto& t : copy) filters.push_back(t.data());
    const int rc =
        mosquitto_subscribe_multiple(mosq_, mid, static_cast<int>(filters.size()), filters.data(), 1, 0, nullptr);
    return rc == MOSQ_ERR_SUCCESS ? "" : Describe(rc);
  }

  void Disconnect() override { mosquitto_disconnect(mosq_); }

  void Shutdown(milliseconds grace) override {
    mosquitto_disconnect_v5(mosq_, MQTT_RC_NORMAL_DISCONNECTION, nullptr);
    const auto deadline = Clock::now() + grace;
    while (mosquitto_socket(mosq_) >= 0 && Clock::now() < deadline) {
      if (mosquitto_loop(mosq_, 50, 1) != MOSQ_ERR_SUCCESS) break;
    }
  }

 private:
  static MosquittoTransport* Self(void* p) { return static_cast<MosquittoTransport*>(p); }
  static void CbConnect(mosquitto*, void* self, int rc, int, const mosquitto_property*) {
    if (Self(self)->cb_.on_connack) Self(self)->cb_.on_connack(rc);
  }
  static void CbDisconnect(mosquitto*, void* self, int rc, const mosquitto_property*) {
    std::string d;
    if (rc > 0 && rc < 0x80) d = mosquitto_strerror(rc);
    if (rc >= 0x80) d = mosquitto_reason_string(rc);
    if (Self(self)->cb_.on_disconnect) Self(self)->cb_.on_disconnect(rc, d);
  }
  static void CbPublish(mosquitto*, void* self, int mid, int reason, const mosquitto_property*) {
    if (Self(self)->cb_.on_puback) Self(self)->cb_.on_puback(mid, reason);
  }
  static void CbSubscribe(mosquitto*, void* self, int mid, int count, const int* granted, const mosquitto_property*) {
    if (Self(self)->cb_.on_suback) Self(self)->cb_.on_suback(mid, std::vector<int>(granted, granted + count));
  }
  static void CbMessage(mosquitto*, void* self, const mosquitto_message* msg, const mosquitto_property*) {
    if (msg->topic == nullptr || !Self(self)->cb_.on_message) return;
    const char* bytes = static_cast<const char*>(msg->payload);
    Self(self)->cb_.on_message(msg->topic, std::string(bytes, bytes ? static_cast<size_t>(msg->payloadlen) : 0));
  }

  TransportCallbacks cb_;
  mosquitto* mosq_ = nullptr;
};

}  // namespace

std::unique_ptr<Transport> MakeMosquittoTransport(const Options& options, TransportCallbacks callbacks) {
  return std::make_unique<MosquittoTransport>(options, std::move(callbacks));
}

}  // namespace courier::client::detail
