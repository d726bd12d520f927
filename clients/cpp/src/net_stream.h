// A byte stream to a server over TCP, optionally wrapped in TLS (OpenSSL),
// for the WebSocket transport (ws_transport.cc).
//
// Ownership: a NetStream owns its socket and SSL objects (closed by Close()
// and the destructor); the SSL_CTX is made once, at construction, from the
// TlsOptions, so bad TLS files are reported early.
// Threads: one thread at a time (the client's network thread).
// Failures: Open() returns a reason; Read/Write return -1 with a reason in
// error() when the connection is broken; nothing throws except the
// constructor (std::invalid_argument for unusable TLS options).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "courier/client.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace courier::client::detail {

class NetStream {
 public:
  explicit NetStream(const std::optional<TlsOptions>& tls);
  ~NetStream();
  NetStream(const NetStream&) = delete;
  NetStream& operator=(const NetStream&) = delete;

  // Resolves `host`, connects and (with TLS) completes the handshake, all
  // within `timeout`; leaves the socket non-blocking. "" or why not.
  std::string Open(const std::string& host, int port, std::chrono::milliseconds timeout);
  void Close();
  int fd() const { return fd_; }
  bool tls() const { return ctx_ != nullptr; }

  // Non-blocking. Bytes read (> 0), 0 when nothing is there now, -1 when
  // the connection is closed or broken (see error()).
  long Read(char* buf, size_t n);
  // Non-blocking. Bytes written (>= 0), -1 when broken.
  long Write(const char* buf, size_t n);
  // True when TLS holds decrypted bytes not read yet.
  bool Pending() const;
  // True when the last TLS call needs the socket writable to go on.
  bool WantsWrite() const { return ssl_wants_write_; }
  const std::string& error() const { return error_; }

 private:
  std::string Handshake(const std::string& host, std::chrono::steady_clock::time_point deadline);

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool insecure_ = false;
  int fd_ = -1;
  bool ssl_wants_write_ = false;
  std::string error_;
};

}  // namespace courier::client::detail
