// HttpGet: one plain HTTP/1.0 GET to a server on a loopback port (Patroni's
// REST API, etcd's /health), over a raw socket.
//
// Ownership: nothing is kept; every call opens and closes its own
// connection. Threads: thread-safe. Failures: a server that does not answer
// (refused, timed out, not HTTP) gives status 0; nothing throws (but
// std::bad_alloc).
#pragma once

#include <chrono>
#include <string>

namespace courier::proc {

struct HttpResponse {
  int status = 0;    // the status line's code; 0: no answer
  std::string body;  // everything after the header
};

// GET `path` from 127.0.0.1:`port`, reading until the server closes the
// connection or `timeout` passes (for the connect and for each read).
HttpResponse HttpGet(int port, const std::string& path,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));

}  // namespace courier::proc
