// See net_stream.h.
#include "net_stream.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace courier::client::detail {
namespace {

using Clock = std::chrono::steady_clock;

std::string SslError(const char* what) {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return std::string(what) + ": " + (errno ? std::strerror(errno) : "failed");
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return std::string(what) + ": " + buf;
}

int MsLeft(Clock::time_point deadline) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms < 0 ? 0 : static_cast<int>(ms);
}

// Waits for `events` on fd until the deadline. False on timeout.
bool WaitFd(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  return ::poll(&p, 1, MsLeft(deadline)) > 0;
}

// A non-blocking connect to one address, waited for until the deadline.
int ConnectOne(const addrinfo* ai, Clock::time_point deadline, std::string* err) {
  const int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
  if (fd < 0) {
    *err = std::strerror(errno);
    return -1;
  }
  if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      *err = std::strerror(errno);
      ::close(fd);
      return -1;
    }
    int so = 0;
    socklen_t len = sizeof so;
    if (!WaitFd(fd, POLLOUT, deadline)) {
      *err = "connect timed out";
      ::close(fd);
      return -1;
    }
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &len) != 0 || so != 0) {
      *err = std::strerror(so ? so : errno);
      ::close(fd);
      return -1;
    }
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Blocks SIGPIPE on this thread while OpenSSL writes to a socket the server
// may have closed, and drops a SIGPIPE that this raised (plain sockets use
// MSG_NOSIGNAL instead).
class NoSigpipe {
 public:
  NoSigpipe() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigpending(&pending_);
    was_pending_ = sigismember(&pending_, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~NoSigpipe() {
    if (!was_pending_) {
      sigset_t now;
      sigpending(&now);
      if (sigismember(&now, SIGPIPE) == 1) {
        const timespec zero{0, 0};
        sigtimedwait(&pipe_, nullptr, &zero);
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t pipe_, old_, pending_;
  bool was_pending_ = false;
};

}  // namespace

NetStream::NetStream(const std::optional<TlsOptions>& tls) {
  if (!tls) return;
  ctx_ = SSL_CTX_new(TLS_client_method());
  if (ctx_ == nullptr) throw std::invalid_argument(SslError("TLS context"));
  auto fail = [this](const std::string& what) {
    SSL_CTX_free(ctx_);
    ctx_ = nullptr;
    throw std::invalid_argument(what);
  };
  auto opt = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
  if (SSL_CTX_load_verify_locations(ctx_, opt(tls->ca_file), opt(tls->ca_path)) != 1) {
    fail(SslError("TLS files: CA"));
  }
  if (!tls->cert_file.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx_, tls->cert_file.c_str()) != 1) fail(SslError("TLS files: cert"));
    if (SSL_CTX_use_PrivateKey_file(ctx_, tls->key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      fail(SslError("TLS files: key"));
    }
    if (SSL_CTX_check_private_key(ctx_) != 1) fail(SslError("TLS files: key does not match cert"));
  }
  SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  insecure_ = tls->insecure;
}

NetStream::~NetStream() {
  Close();
  if (ctx_ != nullptr) SSL_CTX_free(ctx_);
}

void NetStream::Close() {
  if (ssl_ != nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ssl_wants_write_ = false;
}

std::string NetStream::Open(const std::string& host, int port, std::chrono::milliseconds timeout) {
  Close();
  error_.clear();
  const auto deadline = Clock::now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int gai = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (gai != 0) return gai_strerror(gai);
  std::string err = "no address";
  for (const addrinfo* ai = res; ai != nullptr && fd_ < 0; ai = ai->ai_next) fd_ = ConnectOne(ai, deadline, &err);
  ::freeaddrinfo(res);
  if (fd_ < 0) return err;
  if (ctx_ == nullptr) return "";
  err = Handshake(host, deadline);
  if (!err.empty()) Close();
  return err;
}

std::string NetStream::Handshake(const std::string& host, Clock::time_point deadline) {
  ssl_ = SSL_new(ctx_);
  if (ssl_ == nullptr || SSL_set_fd(ssl_, fd_) != 1) return SslError("TLS");
  // An IP address is checked against the certificate's IP entries, a name
  // against its DNS names (and sent as SNI).
  in6_addr any;
  const bool ip = ::inet_pton(AF_INET, host.c_str(), &any) == 1 || ::inet_pton(AF_INET6, host.c_str(), &any) == 1;
  if (!ip) SSL_set_tlsext_host_name(ssl_, host.c_str());
  if (!insecure_) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int ok =
        ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    if (ok != 1) return "TLS: bad host name";
  }
  NoSigpipe guard;
  while (true) {
    ERR_clear_error();
    const int rc = SSL_connect(ssl_);
    if (rc == 1) return "";
    const int e = SSL_get_error(ssl_, rc);
    short events = 0;
    if (e == SSL_ERROR_WANT_READ) events = POLLIN;
    if (e == SSL_ERROR_WANT_WRITE) events = POLLOUT;
    if (events == 0) {
      const long v = SSL_get_verify_result(ssl_);
      if (v != X509_V_OK) return std::string("TLS: ") + X509_verify_cert_error_string(v);
      return SslError("TLS handshake");
    }
    if (!WaitFd(fd_, events, deadline)) return "TLS handshake timed out";
  }
}

bool NetStream::Pending() const { return ssl_ != nullptr && SSL_pending(ssl_) > 0; }

long NetStream::Read(char* buf, size_t n) {
  if (fd_ < 0) return -1;
  if (ssl_ == nullptr) {
    const ssize_t r = ::recv(fd_, buf, n, 0);
    if (r > 0) return r;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
    error_ = r == 0 ? "closed by the server" : std::strerror(errno);
    return -1;
  }
  ERR_clear_error();
  const int r = SSL_read(ssl_, buf, static_cast<int>(n));
  if (r > 0) {
    ssl_wants_write_ = false;
    return r;
  }
  const int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_READ) return 0;
  if (e == SSL_ERROR_WANT_WRITE) {
    ssl_wants_write_ = true;
    return 0;
  }
  error_ = e == SSL_ERROR_ZERO_RETURN ? "closed by the server" : SslError("TLS read");
  return -1;
}

long NetStream::Write(const char* buf, size_t n) {
  if (fd_ < 0) return -1;
  if (n == 0) return 0;
  if (ssl_ == nullptr) {
    const ssize_t r = ::send(fd_, buf, n, MSG_NOSIGNAL);
    if (r >= 0) return r;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
    error_ = std::strerror(errno);
    return -1;
  }
  NoSigpipe guard;
  ERR_clear_error();
  const int r = SSL_write(ssl_, buf, static_cast<int>(n));
  if (r > 0) {
    ssl_wants_write_ = false;
    return r;
  }
  const int e = SSL_get_error(ssl_, r);
  if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
    ssl_wants_write_ = e == SSL_ERROR_WANT_WRITE;
    return 0;
  }
  error_ = SslError("TLS write");
  return -1;
}

}  // namespace courier::client::detail
