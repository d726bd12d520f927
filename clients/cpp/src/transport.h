// The seam between the client's network thread (network.cc) and the MQTT
// connection: connect, the socket to poll, a non-blocking loop step,
// publish, subscribe, disconnect, and callbacks for what the server sends.
// Two implementations: libmosquitto over TCP or TLS (mosquitto_transport.cc)
// and MQTT v5 over WebSocket, plain or TLS (ws_transport.cc).
//
// Ownership: Client::Impl owns one Transport for its whole life; the
// Transport owns its socket (and TLS state) and closes it in Disconnect()
// or its destructor.
// Threads: everything, callbacks included, runs on the network thread
// (callbacks only from inside Loop()). Callbacks may call Publish,
// Subscribe and Disconnect.
// Failures: the methods return an empty string on success and a short
// reason otherwise; they never throw (except std::bad_alloc from the
// factories' option checks, which throw std::invalid_argument).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "courier/client.h"

namespace courier::client::detail {

struct TransportCallbacks {
  // CONNACK with its reason code (0: accepted).
  std::function<void(int reason)> on_connack;
  // The server ended the connection: its DISCONNECT reason code (or the
  // library's error code) and a description ("" when there is nothing to say).
  std::function<void(int reason, const std::string& description)> on_disconnect;
  // PUBACK of a QoS 1 publish with its reason code.
  std::function<void(int mid, int reason)> on_puback;
  // SUBACK with one granted QoS or reason code per filter.
  std::function<void(int mid, const std::vector<int>& granted)> on_suback;
  // An incoming PUBLISH (QoS 1 is acknowledged by the transport).
  std::function<void(const std::string& topic, const std::string& payload)> on_message;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Opens the connection and sends CONNECT (may block up to the connect
  // timeout for name resolution, TCP, TLS and the WebSocket upgrade).
  virtual std::string Connect(const std::string& host, int port, int keepalive_s) = 0;
  // The socket to poll; -1 when there is no connection.
  virtual int Socket() const = 0;
  // True when bytes wait to be written (poll for POLLOUT too).
  virtual bool WantWrite() const = 0;
  // Reads, writes and keeps alive without blocking, calling the callbacks.
  // Returns why the connection was lost ("" while it is fine).
  virtual std::string Loop() = 0;
  // Queues a PUBLISH; *mid is its packet id.
  virtual std::string Publish(int* mid, const std::string& topic, const std::string& payload, int qos) = 0;
  // Queues a SUBSCRIBE of every filter at QoS 1; *mid is its packet id.
  virtual std::string Subscribe(int* mid, const std::vector<std::string>& filters) = 0;
  // Drops the connection now (a DISCONNECT is sent when possible).
  virtual void Disconnect() = 0;
  // Sends DISCONNECT (normal) and waits up to `grace` for it to go out.
  virtual void Shutdown(std::chrono::milliseconds grace) = 0;
};

// The libmosquitto transport (TCP, or TLS when options.tls is set).
// Throws std::invalid_argument for unusable options (TLS files).
std::unique_ptr<Transport> MakeMosquittoTransport(const Options& options, TransportCallbacks callbacks);
// The WebSocket transport (ws://, or wss:// when options.tls is set).
// Throws std::invalid_argument for unusable options (TLS files).
std::unique_ptr<Transport> MakeWebSocketTransport(const Options& options, TransportCallbacks callbacks);

}  // namespace courier::client::detail
