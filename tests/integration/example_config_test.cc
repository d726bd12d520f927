// mosquitto.conf.example as shipped: its websockets listener binds where it
// says (127.0.0.1 only) and serves http_dir on the same port, with the
// plugin loaded. Only loopback sockets are read or connected to.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "support/broker.h"
#include "proc/loopback.h"
#include "proc/read_file.h"

namespace courier::it {
namespace {

// The example's lines, made runnable here: the broker harness adds its own
// TCP listener, plugin and store lines, so the example's are left out; the
// websockets listener gets a free port and http_dir a temporary directory.
std::vector<std::string> ExampleLines(int ws_port, const std::string& http_dir) {
  std::ifstream in(std::string(COURIER_SOURCE_DIR) + "/mosquitto.conf.example");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("listener 1883 ", 0) == 0 || line.rfind("plugin ", 0) == 0 ||
        line.rfind("plugin_opt_db_path ", 0) == 0) {
      continue;
    }
    if (line == "listener 9001 127.0.0.1") line = "listener " + std::to_string(ws_port) + " 127.0.0.1";
    if (line.rfind("#http_dir ", 0) == 0) line = "http_dir " + http_dir;
    lines.push_back(line);
  }
  return lines;
}

// Local addresses of the sockets listening on `port`, from /proc/net/tcp and
// /proc/net/tcp6 (as "hex address" strings, e.g. 0100007F is 127.0.0.1).
std::vector<std::string> ListeningAddresses(int port) {
  std::vector<std::string> found;
  char want[8];
  std::snprintf(want, sizeof want, "%04X", port);
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::istringstream text(proc::ReadWholeFile(table));
    std::string line;
    std::getline(text, line);  // header
    while (std::getline(text, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      fields >> slot >> local >> remote >> state;
      const auto colon = local.find(':');
      if (colon == std::string::npos || state != "0A") continue;  // 0A: LISTEN
      if (local.substr(colon + 1) == want) found.push_back(local.substr(0, colon));
    }
  }
  return found;
}

// GET `path` from 127.0.0.1:port over plain HTTP/1.0; the whole response.
std::string HttpGet(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (::write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      timeval tv{5, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0) response.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return response;
}

TEST(ExampleConfigTest, WebSocketsListenerBindsToLoopbackAndServesHttpDir) {
  Broker broker;
  const std::string web = broker.data_dir() + "/web";
  ASSERT_EQ(::mkdir(web.c_str(), 0755), 0);
  std::ofstream(web + "/index.html") << "<title>courier chat</title>\n";

  int ws_port = 0;
  ::testing::AssertionResult started = ::testing::AssertionFailure();
  for (int attempt = 0; attempt < 5 && !started; ++attempt) {
    ws_port = proc::PickFreePort();
    broker.options().pre_config = ExampleLines(ws_port, web);
    started = broker.Start();
    if (started && !proc::WaitForPort(ws_port, std::chrono::seconds(10))) {
      started = ::testing::AssertionFailure() << "websockets port " << ws_port << " never accepted";
      broker.Kill9();
    }
  }
  ASSERT_TRUE(started) << broker.log();

  // Bound to 127.0.0.1 only: one IPv4 listening socket at 0100007F, none on
  // 0.0.0.0 and none in IPv6.
  EXPECT_EQ(ListeningAddresses(ws_port), std::vector<std::string>{"0100007F"});
  EXPECT_EQ(ListeningAddresses(broker.port()), std::vector<std::string>{"0100007F"});

  const std::string page = HttpGet(ws_port, "/index.html");
  EXPECT_NE(page.find(" 200 "), std::string::npos) << page;
  EXPECT_NE(page.find("courier chat"), std::string::npos) << page;
}

}  // namespace
}  // namespace courier::it
