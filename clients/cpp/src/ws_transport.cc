// The WebSocket transport (see transport.h): MQTT v5 (mqtt_codec.h) in
// binary WebSocket frames (ws_frame.h) over TCP or TLS (net_stream.h), for
// brokers that clients reach through a `protocol websockets` listener.
//
// Ownership: owns its NetStream and buffers.
// Threads: the network thread only; callbacks run inside Loop().
// Failures: a broken stream, a bad frame or packet from the server, a
// missing PINGRESP or a server close frame close the connection, and
// Loop() returns "connection lost: <why>"; nothing throws out of Loop(), an
// exception from a callback included.
#include <poll.h>

#include <chrono>
#include <exception>

#include <mosquitto.h>

#include "mqtt_codec.h"
#include "net_stream.h"
#include "transport.h"
#include "ws_frame.h"

namespace courier::client::detail {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
namespace m = mqtt;

constexpr size_t kReadChunk = 16384;
constexpr size_t kReadPerLoop = 4u << 20;  // then let the thread do other work

class WebSocketTransport final : public Transport {
 public:
  WebSocketTransport(const Options& o, TransportCallbacks cb)
      : cb_(std::move(cb)),
        net_(o.tls),
        client_id_(o.device),
        user_(o.user),
        password_(o.password),
        path_(o.ws_path),
        timeout_(o.connect_timeout) {}
  ~WebSocketTransport() override { net_.Close(); }

  std::string Connect(const std::string& host, int port, int keepalive_s) override;
  int Socket() const override { return open_ ? net_.fd() : -1; }
  bool WantWrite() const override { return open_ && (!out_.empty() || net_.WantsWrite()); }
  std::string Loop() override;
  std::string Publish(int* mid, const std::string& topic, const std::string& payload, int qos) override;
  std::string Subscribe(int* mid, const std::vector<std::string>& filters) override;
  void Disconnect() override;
  void Shutdown(milliseconds grace) override;

 private:
  void SendMqtt(const std::string& packet) {
    out_ += ws::ClientFrame(ws::kBinary, packet);
    last_out_ = Clock::now();
  }
  uint16_t NextMid() {
    if (++mid_ == 0) mid_ = 1;
    return mid_;
  }
  void CloseStream() {
    net_.Close();
    open_ = false;
  }
  std::string Lost(const std::string& why) {
    CloseStream();
    return "connection lost: " + why;
  }
  // Writes what it can of out_. False when the stream broke.
  bool Flush();
  // The WebSocket upgrade, blocking until `deadline`. "" or why not.
  std::string Upgrade(const std::string& host, int port, Clock::time_point deadline);
  // Handles the frames and packets read so far. "" or why the connection ended.
  std::string Process();
  std::string Handle(const m::Packet& p);
  std::string KeepAlive();

  TransportCallbacks cb_;
  NetStream net_;
  const std::string client_id_, user_, password_, path_;
  const milliseconds timeout_;

  bool open_ = false;
  std::string out_;
  ws::FrameDecoder frames_;
  std::string mqtt_in_;
  uint16_t mid_ = 0;
  int keepalive_s_ = 0;
  Clock::time_point last_out_{}, last_in_{}, ping_sent_{};
  bool ping_outstanding_ = false;
};

std::string WebSocketTransport::Connect(const std::string& host, int port, int keepalive_s) {
  CloseStream();
  out_.clear();
  mqtt_in_.clear();
  frames_ = ws::FrameDecoder();
  ping_outstanding_ = false;
  keepalive_s_ = keepalive_s;
  const auto deadline = Clock::now() + timeout_;
  std::string err = net_.Open(host, port, timeout_);
  if (err.empty()) err = Upgrade(host, port, deadline);
  if (!err.empty()) {
    CloseStream();
    return err;
  }
  open_ = true;
  last_in_ = Clock::now();
  SendMqtt(m::EncodeConnect({.client_id = client_id_,
                             .username = user_,
                             .password = password_,
                             .keepalive_s = static_cast<uint16_t>(keepalive_s)}));
  return Flush() ? "" : net_.error();
}

std::string WebSocketTransport::Upgrade(const std::string& host, int port, Clock::time_point deadline) {
  const std::string key = ws::NewKey();
  const std::string req = ws::HandshakeRequest(host, port, path_, key);
  auto wait = [&](short events) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    pollfd p{net_.fd(), events, 0};
    return left > 0 && ::poll(&p, 1, static_cast<int>(left)) > 0;
  };
  for (size_t done = 0; done < req.size();) {
    const long n = net_.Write(req.data() + done, req.size() - done);
    if (n < 0) return "WebSocket upgrade: " + net_.error();
    done += static_cast<size_t>(n);
    if (n == 0 && !wait(POLLOUT)) return "WebSocket upgrade timed out";
  }
  std::string in;
  char buf[4096];
  while (true) {
    const long n = net_.Read(buf, sizeof buf);
    if (n < 0) return "WebSocket upgrade: " + net_.error();
    in.append(buf, static_cast<size_t>(n));
    size_t used = 0;
    std::string err;
    const ws::Result r = ws::ParseHandshakeResponse(in, key, &used, &err);
    if (r == ws::Result::kError) return err;
    if (r == ws::Result::kOk) {
      frames_.Feed(std::string_view(in).substr(used));
      return "";
    }
    if (n == 0 && !net_.Pending() && !wait(net_.WantsWrite() ? POLLOUT : POLLIN)) {
      return "WebSocket upgrade timed out";
    }
  }
}

bool WebSocketTransport::Flush() {
  while (!out_.empty()) {
    const long n = net_.Write(out_.data(), out_.size());
    if (n < 0) return false;
    if (n == 0) break;
    out_.erase(0, static_cast<size_t>(n));
  }
  return true;
}

std::string WebSocketTransport::Loop() {
  if (!open_) return "connection closed";
  if (!Flush()) return Lost(net_.error());
  char buf[kReadChunk];
  for (size_t total = 0; total < kReadPerLoop;) {
    const long n = net_.Read(buf, sizeof buf);
    if (n < 0) return Lost(net_.error());
    if (n == 0 && !net_.Pending()) break;
    frames_.Feed(std::string_view(buf, static_cast<size_t>(n)));
    total += static_cast<size_t>(n);
    last_in_ = Clock::now();
  }
  std::string err;
  try {
    err = Process();
  } catch (const std::exception& e) { err = Lost(std::string("internal error: ") + e.what()); } catch (...) {
    err = Lost("internal error");
  }
  if (!err.empty()) return err;
  if (!open_) return "connection closed";  // a callback dropped it
  err = KeepAlive();
  if (!err.empty()) return err;
  if (!Flush()) return Lost(net_.error());
  return "";
}

std::string WebSocketTransport::Process() {
  ws::Event e;
  std::string err;
  while (open_) {
    const ws::Result r = frames_.Next(&e, &err);
    if (r == ws::Result::kNeedMore) break;
    if (r == ws::Result::kError) {
      out_ += ws::ClientFrame(ws::kClose, std::string("\x03\xea", 2));  // 1002 protocol error
      Flush();
      return Lost(err);
    }
    switch (e.kind) {
      case ws::Event::kPing: out_ += ws::ClientFrame(ws::kPong, e.data); break;
      case ws::Event::kPong: break;
      case ws::Event::kClose: {
        out_ += ws::ClientFrame(ws::kClose, std::string("\x03\xe8", 2));  // 1000
        Flush();
        std::string why = "WebSocket closed by the server";
        if (e.close_code != 0) why += " (" + std::to_string(e.close_code) + (e.data.empty() ? "" : " " + e.data) + ")";
        return Lost(why);
      }
      case ws::Event::kMessage: {
        mqtt_in_ += e.data;
        size_t used = 0;
        while (open_) {
          m::Packet p;
          const m::Decode d = m::DecodePacket(mqtt_in_, &p, &used, &err);
          if (d == m::Decode::kNeedMore) break;
          if (d == m::Decode::kError) return Lost("bad MQTT packet from the server: " + err);
          mqtt_in_.erase(0, used);
          err = Handle(p);
          if (!err.empty()) return err;
        }
        break;
      }
    }
  }
  return "";
}

std::string WebSocketTransport::Handle(const m::Packet& p) {
  switch (p.type) {
    case m::kConnack:
      if (cb_.on_connack) cb_.on_connack(p.reason);
      return "";
    case m::kPublish:
      if (p.qos == 2) return Lost("QoS 2 PUBLISH, but the subscriptions are QoS 1");
      if (cb_.on_message) cb_.on_message(p.topic, p.payload);
      if (p.qos == 1 && open_) SendMqtt(m::EncodePuback(p.mid));
      return "";
    case m::kPuback:
      if (cb_.on_puback) cb_.on_puback(p.mid, p.reason);
      return "";
    case m::kSuback:
      if (cb_.on_suback) cb_.on_suback(p.mid, std::vector<int>(p.granted.begin(), p.granted.end()));
      return "";
    case m::kPingresp: ping_outstanding_ = false; return "";
    case m::kDisconnect:
      CloseStream();
      if (cb_.on_disconnect) cb_.on_disconnect(p.reason, p.reason ? mosquitto_reason_string(p.reason) : "");
      return "connection closed";
    default: return Lost("unexpected MQTT packet type " + std::to_string(p.type));
  }
}

std::string WebSocketTransport::KeepAlive() {
  if (keepalive_s_ <= 0) return "";
  const auto now = Clock::now();
  const auto every = std::chrono::seconds(keepalive_s_);
  if (ping_outstanding_) {
    if (now - ping_sent_ >= every) return Lost("no PINGRESP within the keepalive");
    return "";
  }
  if (now - last_out_ >= every || now - last_in_ >= every) {
    SendMqtt(m::EncodePingreq());
    ping_outstanding_ = true;
    ping_sent_ = now;
  }
  return "";
}

std::string WebSocketTransport::Publish(int* mid, const std::string& topic, const std::string& payload, int qos) {
  if (!open_) return "not connected";
  const uint16_t id = qos > 0 ? NextMid() : 0;
  SendMqtt(m::EncodePublish(topic, payload, qos, id));
  if (mid != nullptr) *mid = id;
  return "";
}

std::string WebSocketTransport::Subscribe(int* mid, const std::vector<std::string>& filters) {
  if (!open_) return "not connected";
  const uint16_t id = NextMid();
  SendMqtt(m::EncodeSubscribe(id, filters, 1));
  if (mid != nullptr) *mid = id;
  return "";
}

void WebSocketTransport::Disconnect() {
  if (!open_) return;
  SendMqtt(m::EncodeDisconnect(0));
  Flush();
  CloseStream();
}

void WebSocketTransport::Shutdown(milliseconds grace) {
  if (!open_) return;
  SendMqtt(m::EncodeDisconnect(0));
  out_ += ws::ClientFrame(ws::kClose, std::string("\x03\xe8", 2));
  const auto deadline = Clock::now() + grace;
  // Send it all, then wait for the server to close (so nothing unread is
  // left that would turn the close into a reset).
  while (Clock::now() < deadline) {
    if (!Flush()) break;
    char buf[kReadChunk];
    const long n = net_.Read(buf, sizeof buf);
    if (n < 0) break;
    if (n > 0 || net_.Pending()) continue;
    pollfd p{net_.fd(), static_cast<short>(POLLIN | (out_.empty() ? 0 : POLLOUT)), 0};
    ::poll(&p, 1, 50);
  }
  CloseStream();
}

}  // namespace

std::unique_ptr<Transport> MakeWebSocketTransport(const Options& options, TransportCallbacks callbacks) {
  return std::make_unique<WebSocketTransport>(options, std::move(callbacks));
}

}  // namespace courier::client::detail
