// HttpServer: a small HTTP/1.1 server for one job: receiving push calls.
// The reference gateway (`courier push-gateway`) and the tests use it; it
// is not a general web server.
//
// Each connection gets a thread of its own (detached, counted) and one
// request (the answer says Connection: close). Bodies need Content-Length (no chunked encoding) and
// may be at most 1 MiB. The handler runs on the connection's thread: it
// must be thread-safe. Stop() (and the destructor) closes the listener and
// joins every thread, so it waits for handlers that are still running.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace courier::push {

struct HttpRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::chrono::milliseconds delay{0};  // wait this long before answering
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  explicit HttpServer(Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on host:port (IPv4; port 0: a free one) and starts serving.
  // False with *error set when it cannot listen.
  bool Start(const std::string& host, int port, std::string* error);
  void Stop();
  int port() const { return port_; }

 private:
  void Accept();
  void Serve(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::condition_variable idle_;
  int active_ = 0;  // connection threads still running; guarded by mu_
};

}  // namespace courier::push
