#include "proc/http_get.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>

namespace courier::proc {
namespace {

// A socket connected to 127.0.0.1:port with send/receive timeouts; -1 on failure.
int ConnectLoopback(int port, std::chrono::milliseconds timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  // also bounds connect()
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

HttpResponse HttpGet(int port, const std::string& path, std::chrono::milliseconds timeout) {
  HttpResponse out;
  const int fd = ConnectLoopback(port, timeout);
  if (fd < 0) return out;
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  std::string reply;
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
    char buf[4096];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) reply.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  // "HTTP/1.x NNN reason\r\n...\r\n\r\nbody"
  if (reply.compare(0, 5, "HTTP/") != 0) return out;
  const size_t space = reply.find(' ');
  const size_t header_end = reply.find("\r\n\r\n");
  if (space == std::string::npos || header_end == std::string::npos) return out;
  out.status = std::atoi(reply.c_str() + space + 1);
  out.body = reply.substr(header_end + 4);
  return out;
}

}  // namespace courier::proc
