// The client library over WebSockets (Options::transport kWebSockets)
// against a real mosquitto with the Courier plugin: a `protocol websockets`
// listener on 127.0.0.1 beside the default TCP one, plain and with a
// certificate made by the test (wss); and a fake server on loopback that
// answers the upgrade and then sends a bad frame.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "courier/client.h"
#include "proc/loopback.h"
#include "support/broker.h"
#include "support/child.h"
#include "support/client_fixture.h"
#include "ws_frame.h"

namespace courier::client_test {
namespace {

using namespace std::chrono_literals;

// The lines of a websockets listener on 127.0.0.1 (Mosquitto 2.0.11 binds it
// to the address only with socket_domain ipv4).
std::vector<std::string> WsListener(int port) {
  return {"listener " + std::to_string(port) + " 127.0.0.1", "protocol websockets", "socket_domain ipv4"};
}

class WsClientTest : public ClientTest {
 protected:
  void SetUp() override {
    ws_port_ = proc::PickFreePort();
    ClientTest::SetUp();
    ASSERT_TRUE(proc::WaitForPort(ws_port_, 10s)) << "websockets listener on " << ws_port_;
  }
  it::BrokerOptions BrokerOpts() const override {
    it::BrokerOptions b;
    b.extra_config = WsListener(ws_port_);
    // Room for a message that takes a WebSocket frame with a 64-bit length.
    b.plugin_opts = {{"max_payload_bytes", "300000"}};
    return b;
  }
  client::Options WsOpts(const std::string& user, const std::string& device) const {
    client::Options o = Opts(user, device);
    o.transport = client::Transport::kWebSockets;
    o.port = ws_port_;
    return o;
  }
  int ws_port_ = 0;
};

bool HasReceipt(Recorder& r, const std::string& id, bool read) {
  return r.WaitFor([&] {
    return std::any_of(r.receipts.begin(), r.receipts.end(), [&](const client::Receipt& x) {
      return x.kind == client::Kind::kReceiver && x.id == id && (read ? x.state.read : x.state.received);
    });
  });
}

TEST_F(WsClientTest, WebSocketsAndTcpClientsTalkBothWaysWithAcks) {
  Recorder ra, rb;
  Client alice(WsOpts("alice", "alice-browser"), ra.handlers());
  Client bob(Opts("bob", "bob-phone"), rb.handlers());
  alice.start();
  bob.start();
  ASSERT_TRUE(ra.WaitSynced());
  ASSERT_TRUE(rb.WaitSynced());
  EXPECT_TRUE(alice.online());

  // WebSockets -> TCP, with the SENDER ack and both ticks back over WebSockets.
  auto f = alice.send("bob", "hello over websockets");
  const client::SendResult r = Ready(f);
  ASSERT_TRUE(r.ok) << r.error_code << ": " << r.error_detail;
  EXPECT_EQ(r.offset, 1);
  EXPECT_EQ(r.attempts, 1);
  ASSERT_TRUE(rb.WaitMessages(1));
  EXPECT_EQ(rb.Get(rb.messages)[0].payload, "hello over websockets");
  EXPECT_EQ(rb.Get(rb.messages)[0].from.device, "alice-browser");
  auto received = bob.markReceived(1);
  EXPECT_TRUE(Ready(received));
  EXPECT_TRUE(HasReceipt(ra, r.id, false));
  auto read = bob.markRead(1);
  EXPECT_TRUE(Ready(read));
  EXPECT_TRUE(HasReceipt(ra, r.id, true));

  // TCP -> WebSockets, acked by the WebSockets client's receipt.
  auto g = bob.send("alice", "hello over tcp");
  const client::SendResult r2 = Ready(g);
  ASSERT_TRUE(r2.ok) << r2.error_code;
  ASSERT_TRUE(ra.WaitFor([&] {
    return std::any_of(ra.messages.begin(), ra.messages.end(), [&](const client::Message& m) { return m.id == r2.id; });
  }));
  auto ack = alice.markRead(2);
  EXPECT_TRUE(Ready(ack));
  EXPECT_TRUE(HasReceipt(rb, r2.id, true));

  // Typing over WebSockets, and a message larger than 64 KiB.
  auto typing = alice.setActivity("bob", client::Status::kTyping);
  EXPECT_TRUE(Ready(typing));
  ASSERT_TRUE(rb.WaitFor([&] { return !rb.activities.empty(); }));
  const std::string big(200000, 'z');
  auto h = bob.send("alice", big);
  const client::SendResult r3 = Ready(h);
  ASSERT_TRUE(r3.ok) << r3.error_code << ": " << r3.error_detail;
  ASSERT_TRUE(ra.WaitFor([&] {
    return std::any_of(ra.messages.begin(), ra.messages.end(),
                       [&](const client::Message& m) { return m.payload == big; });
  }));
  alice.close();
  EXPECT_EQ(ra.Get(ra.connection).back().state, ConnectionState::kClosed);
}

TEST_F(WsClientTest, ReconnectsAfterBrokerRestartAndDeliversOnce) {
  SendWhileBrokerDownArrivesOnce(WsOpts("alice", "alice-browser"), WsOpts("bob", "bob-browser"));
}

// Keepalive: Mosquitto drops a client it has not heard from for 1.5
// keepalives; an idle WebSocket client stays online through PINGREQs.
TEST_F(WsClientTest, IdleConnectionStaysUpThroughKeepalive) {
  client::Options o = WsOpts("alice", "alice-browser");
  o.keepalive_s = 5;
  Recorder ra;
  Client alice(o, ra.handlers());
  alice.start();
  ASSERT_TRUE(ra.WaitSynced());
  std::this_thread::sleep_for(9s);
  EXPECT_TRUE(alice.online());
  const auto events = ra.Get(ra.connection);
  EXPECT_EQ(std::count_if(events.begin(), events.end(),
                          [](const client::ConnectionEvent& e) { return e.state == ConnectionState::kOffline; }),
            0);
  auto f = alice.send("alice", "still here");
  EXPECT_TRUE(Ready(f).ok);
}

// The CLI's --websockets: a send over WebSockets reaches a TCP client.
TEST_F(WsClientTest, CliSendsOverWebSockets) {
  Recorder rb;
  Client bob(Opts("bob", "bob-phone"), rb.handlers());
  bob.start();
  ASSERT_TRUE(rb.WaitSynced());
  const RunResult sent = RunProcess({COURIER_CLI_PATH, "send", "--websockets", "-h", "127.0.0.1", "-p",
                                     std::to_string(ws_port_), "-u", "alice", "--to", "bob", "--id", "m-ws", "hi"});
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  EXPECT_EQ(sent.out, "sent id=m-ws offset=1 user_offset=1\n");
  ASSERT_TRUE(rb.WaitMessages(1));
  EXPECT_EQ(rb.Get(rb.messages)[0].id, "m-ws");
  const RunResult bad =
      RunProcess({COURIER_CLI_PATH, "send", "--websockets", "--ws-path", "mqtt", "-u", "alice", "--to", "bob", "x"});
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
}

// wss: the websockets listener with a self-signed certificate for localhost.
class WssClientTest : public WsClientTest {
 protected:
  void SetUp() override {
    const RunResult gen = MakeLocalhostCertificate(dir_.path());
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    WsClientTest::SetUp();
  }
  it::BrokerOptions BrokerOpts() const override {
    it::BrokerOptions b = WsClientTest::BrokerOpts();
    b.extra_config.push_back("certfile " + dir_.path() + "/cert.pem");
    b.extra_config.push_back("keyfile " + dir_.path() + "/key.pem");
    return b;
  }
  client::Options WssOpts(const std::string& user, const std::string& device) const {
    client::Options o = WsOpts(user, device);
    o.host = "localhost";
    o.tls = client::TlsOptions{.ca_file = dir_.path() + "/cert.pem"};
    return o;
  }
  TempDir dir_;
};

TEST_F(WssClientTest, SendsOverWssAndChecksTheHostName) {
  Recorder ra;
  Client alice(WssOpts("alice", "alice-browser"), ra.handlers());
  alice.start();
  auto f = alice.send("alice", "note to self over wss");
  const auto r = Ready(f);
  EXPECT_TRUE(r.ok) << r.error_code << ": " << r.error_detail;
  ASSERT_TRUE(ra.WaitMessages(1));
  EXPECT_EQ(ra.Get(ra.messages)[0].payload, "note to self over wss");

  // The certificate names localhost, not 127.0.0.1: refused unless insecure.
  client::Options by_ip = WssOpts("alice", "alice-other");
  by_ip.host = "127.0.0.1";
  Recorder rbad;
  Client bad(by_ip, rbad.handlers());
  bad.start();
  ASSERT_TRUE(rbad.WaitFor([&] { return rbad.Last() == ConnectionState::kOffline; }));
  EXPECT_NE(rbad.Get(rbad.connection).back().reason.find("TLS"), std::string::npos)
      << rbad.Get(rbad.connection).back().reason;
  bad.close();
  by_ip.tls->insecure = true;
  Recorder rok;
  Client ok(by_ip, rok.handlers());
  ok.start();
  EXPECT_TRUE(rok.WaitOnline());

  client::Options missing = WssOpts("alice", "alice-x");
  missing.tls->ca_file = dir_.path() + "/missing.pem";
  EXPECT_THROW(Client c(missing), std::invalid_argument);
}

// A fake server on loopback: accepts one connection at a time, answers the
// upgrade, then sends `frame` and keeps the connection open.
class BadServer {
 public:
  explicit BadServer(std::string frame) : frame_(std::move(frame)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 4);
    thread_ = std::thread([this] { Serve(); });
  }
  ~BadServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
    for (int c : conns_) ::close(c);
  }
  int port() const { return port_; }

 private:
  void Serve() {
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      conns_.push_back(c);
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      const auto k = req.find("Sec-WebSocket-Key: ");
      if (k == std::string::npos) continue;
      const std::string key = req.substr(k + 19, req.find("\r\n", k) - k - 19);
      const std::string answer =
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          "Sec-WebSocket-Accept: " +
          client::detail::ws::AcceptFor(key) + "\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n" + frame_;
      ::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
    }
  }
  std::string frame_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::vector<int> conns_;
  std::thread thread_;
};

void ExpectOfflineWith(const std::string& frame, const std::string& words) {
  BadServer server(frame);
  client::Options o;
  o.host = "127.0.0.1";
  o.port = server.port();
  o.user = "alice";
  o.device = "alice-browser";
  o.transport = client::Transport::kWebSockets;
  o.reconnect = {5s, 10s};
  Recorder r;
  Client c(o, r.handlers());
  c.start();
  ASSERT_TRUE(r.WaitFor([&] { return r.Last() == ConnectionState::kOffline; }));
  const std::string reason = r.Get(r.connection).back().reason;
  EXPECT_NE(reason.find(words), std::string::npos) << reason;
  c.close(0ms);
}

TEST(WsBadServerTest, BadFramesAndPacketsCloseTheConnectionWithAReason) {
  // A 64-bit frame length with the top bit set.
  ExpectOfflineWith(std::string("\x82\x7f\x80\0\0\0\0\0\0\x01", 10), "length");
  // A masked frame from the server.
  ExpectOfflineWith(std::string("\x82\x81\1\2\3\4\5", 7), "masked");
  // A close frame.
  ExpectOfflineWith(std::string("\x88\x04\x03\xe9", 4) + "by", "closed by the server (1001 by)");
  // A good frame holding a packet a server never sends (CONNECT).
  ExpectOfflineWith(std::string("\x82\x02\x10\x00", 4), "bad MQTT packet");
}

}  // namespace
}  // namespace courier::client_test
