// PushSender's thread against an in-process HTTP gateway on loopback: calls
// are made and settled, a connected device is skipped, and a hung gateway
// neither blocks Add nor the sender's shutdown.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "http_server.h"
#include "push_sender.h"

namespace courier::push {
namespace {

using namespace std::chrono_literals;

storage::PushDue Due(const std::string& device, int32_t offset) {
  storage::PushDue d;
  d.user = "bob";
  d.device = device;
  d.offset = offset;
  d.app = "chat";
  d.token = "tok";
  d.id = "m" + std::to_string(offset);
  d.created_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  return d;
}

// Takes outcomes until `done` keys have been settled or `timeout` passes.
PushSender::Outcome Collect(PushSender& s, size_t done, std::chrono::milliseconds timeout = 5s) {
  PushSender::Outcome all;
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (all.done.size() < done && std::chrono::steady_clock::now() < end) {
    auto o = s.Take();
    all.done.insert(all.done.end(), o.done.begin(), o.done.end());
    all.unregister.insert(all.unregister.end(), o.unregister.begin(), o.unregister.end());
    all.log.insert(all.log.end(), o.log.begin(), o.log.end());
    std::this_thread::sleep_for(10ms);
  }
  return all;
}

class PushSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    PushSender::GlobalInit();
    std::string error;
    ASSERT_TRUE(server_.Start("127.0.0.1", 0, &error)) << error;
  }
  PushOptions Options() const {
    PushOptions o;
    o.url = "http://127.0.0.1:" + std::to_string(server_.port()) + "/push";
    o.coalesce_ms = 50;
    o.timeout_ms = 10000;
    return o;
  }

  std::atomic<int> calls_{0};
  std::atomic<int> status_{200};
  std::atomic<int> delay_ms_{0};
  HttpServer server_{[this](const HttpRequest&) {
    ++calls_;
    return HttpResponse{.status = status_, .body = "", .delay = std::chrono::milliseconds(delay_ms_.load())};
  }};
};

TEST_F(PushSenderTest, PostsOncePerDeviceAndSettles) {
  PushSender s(Options(), [](const std::string&, const std::string&) { return false; });
  s.Add({Due("phone", 1), Due("phone", 2), Due("tablet", 1)});
  auto o = Collect(s, 3);
  EXPECT_EQ(o.done.size(), 3u);
  EXPECT_EQ(calls_.load(), 2) << "one call per device";
  EXPECT_EQ(s.counters().delivered.load(), 2u);
}

TEST_F(PushSenderTest, ConnectedDeviceIsSkipped) {
  PushSender s(Options(), [](const std::string&, const std::string& device) { return device == "phone"; });
  s.Add({Due("phone", 1), Due("tablet", 1)});
  auto o = Collect(s, 2);
  EXPECT_EQ(o.done.size(), 2u);
  EXPECT_EQ(calls_.load(), 1);
  EXPECT_EQ(s.counters().skipped_connected.load(), 1u);
}

TEST_F(PushSenderTest, GoneTokenIsReportedForUnregistering) {
  status_ = 410;
  PushSender s(Options(), [](const std::string&, const std::string&) { return false; });
  s.Add({Due("phone", 1)});
  auto o = Collect(s, 1);
  ASSERT_EQ(o.unregister.size(), 1u);
  EXPECT_EQ(o.unregister[0].device, "phone");
  EXPECT_FALSE(o.log.empty());
}

TEST_F(PushSenderTest, HungGatewayBlocksNeitherAddNorShutdown) {
  delay_ms_ = 10000;
  const auto start = std::chrono::steady_clock::now();
  {
    PushSender s(Options(), [](const std::string&, const std::string&) { return false; });
    s.Add({Due("phone", 1)});
    while (calls_.load() == 0 && std::chrono::steady_clock::now() - start < 5s) std::this_thread::sleep_for(5ms);
    ASSERT_EQ(calls_.load(), 1);
    for (int i = 2; i < 100; ++i) s.Add({Due("phone", i)});  // returns while the call hangs
    EXPECT_TRUE(s.Take().done.empty());
  }  // the destructor aborts the call under way
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

}  // namespace
}  // namespace courier::push
