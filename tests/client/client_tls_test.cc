// The client library over TLS against a real mosquitto with the Courier
// plugin (support/client_fixture.h: one broker per test).
#include <sys/stat.h>

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "courier/client.h"
#include "proc/loopback.h"
#include "support/broker.h"
#include "support/child.h"
#include "support/client_fixture.h"

namespace courier::client_test {
namespace {

// TLS: a second listener with a self-signed certificate made for the test.
class TlsClientTest : public ClientTest {
 protected:
  void SetUp() override {
    tls_port_ = proc::PickFreePort();
    const RunResult gen = MakeLocalhostCertificate(dir_.path());
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    ClientTest::SetUp();
    ASSERT_TRUE(proc::WaitForPort(tls_port_, 10s)) << "TLS listener on " << tls_port_;
  }
  it::BrokerOptions BrokerOpts() const override {
    it::BrokerOptions b;
    b.extra_config = {"listener " + std::to_string(tls_port_) + " 127.0.0.1", "certfile " + dir_.path() + "/cert.pem",
                      "keyfile " + dir_.path() + "/key.pem"};
    return b;
  }
  TempDir dir_;
  int tls_port_ = 0;
};

TEST_F(TlsClientTest, SendsOverTls) {
  client::Options o = Opts("alice", "alice-phone");
  o.host = "localhost";
  o.port = tls_port_;
  o.tls = client::TlsOptions{.ca_file = dir_.path() + "/cert.pem"};
  Recorder ra;
  Client alice(o, ra.handlers());
  alice.start();
  auto f = alice.send("alice", "note to self over TLS");
  const auto r = Ready(f);
  EXPECT_TRUE(r.ok) << r.error_code << ": " << r.error_detail;
  ASSERT_TRUE(ra.WaitMessages(1));
  EXPECT_EQ(ra.Get(ra.messages)[0].payload, "note to self over TLS");

  client::Options bad = o;
  bad.tls->ca_file = dir_.path() + "/missing.pem";
  EXPECT_THROW(Client c(bad), std::invalid_argument);
}

}  // namespace
}  // namespace courier::client_test
