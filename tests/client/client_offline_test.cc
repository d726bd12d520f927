// The client library against a real mosquitto with the Courier plugin
// (support/client_fixture.h: one broker per test): what a client gets after
// the broker or the client itself was away, gap pulls, and the cursor file.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "courier/client.h"
#include "support/child.h"
#include "support/client_fixture.h"

namespace courier::client_test {
namespace {

TEST_F(ClientTest, MessageSentWhileBrokerIsDownIsDeliveredOnceAfterRestart) {
  SendWhileBrokerDownArrivesOnce(Opts("alice", "alice-phone"), Opts("bob", "bob-phone"));
}

TEST_F(ClientTest, OfflineClientGetsAllHundredOnceInOrder) {
  TempDir dir;
  client::Options ob = Opts("bob", "bob-phone");
  ob.cursor_file = dir.path() + "/bob.cursor";
  ob.start_from = client::StartFrom::kBeginning;
  ob.pull_limit = 30;  // several pages
  {
    Recorder rb;
    Client bob(ob, rb.handlers());
    bob.start();
    ASSERT_TRUE(rb.WaitSynced());
    bob.close();
  }
  SendFrom("alice", "bob", 100);

  Recorder rb;
  Client bob(ob, rb.handlers());
  bob.start();
  ASSERT_TRUE(rb.WaitFor([&] { return !rb.synced.empty() && rb.messages.size() >= 100; }));
  auto head = bob.queryHead();  // a round trip: anything late would be here by now
  EXPECT_EQ(Ready(head), std::optional<int32_t>(100));
  const auto got = rb.Get(rb.messages);
  ASSERT_EQ(got.size(), 100u);
  EXPECT_EQ(Offsets(got), Range(1, 100));
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(got[i].payload, "m" + std::to_string(i));
    ids.insert(got[i].id);
  }
  EXPECT_EQ(ids.size(), 100u);
  EXPECT_EQ(bob.cursor(), 100);
}

TEST_F(ClientTest, GapInOffsetsIsFilledByAPull) {
  SendFrom("alice", "bob", 3, "old");  // bob's log: 1..3, bob offline

  Recorder rb;
  client::Options ob = Opts("bob", "bob-phone");
  ob.sync_on_connect = false;  // live only: the first live entry shows the gap
  ob.start_after = 0;
  Client bob(ob, rb.handlers());
  bob.start();
  ASSERT_TRUE(rb.WaitOnline());
  auto head = bob.queryHead();
  EXPECT_EQ(Ready(head), std::optional<int32_t>(3));
  EXPECT_TRUE(rb.Get(rb.messages).empty()) << "no sync on connect";

  SendFrom("alice", "bob", 1, "live");  // offset 4, pushed live
  ASSERT_TRUE(rb.WaitMessages(4));
  const auto got = rb.Get(rb.messages);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(Offsets(got), Range(1, 4));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].payload, "old" + std::to_string(i));
    EXPECT_TRUE(got[i].pulled) << "offset " << got[i].offset << " came from the gap pull";
  }
  EXPECT_EQ(got[3].payload, "live0");
  EXPECT_FALSE(got[3].pulled);
  EXPECT_EQ(bob.cursor(), 4);
}

TEST_F(ClientTest, CursorFileSurvivesAClientRestart) {
  TempDir dir;
  const std::string file = dir.path() + "/bob.cursor";
  client::Options ob = Opts("bob", "bob-phone");
  ob.cursor_file = file;
  ob.start_from = client::StartFrom::kBeginning;
  {
    Recorder rb;
    Client bob(ob, rb.handlers());
    bob.start();
    ASSERT_TRUE(rb.WaitSynced());
    SendFrom("alice", "bob", 3);
    ASSERT_TRUE(rb.WaitMessages(3));
    bob.close();
  }
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("cursor=3\n"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("user=bob\n"), std::string::npos) << text.str();
  EXPECT_NE(text.str().find("device=bob-phone\n"), std::string::npos) << text.str();
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) { files.push_back(e.path().filename()); }
  EXPECT_EQ(files, std::vector<std::string>{"bob.cursor"}) << "no temporary file left";

  SendFrom("alice", "bob", 2, "later");  // while bob's client is not running
  Recorder rb;
  Client bob(ob, rb.handlers());
  EXPECT_EQ(bob.cursor(), 3) << "loaded before connecting";
  bob.start();
  ASSERT_TRUE(rb.WaitFor([&] { return !rb.synced.empty(); }));
  const auto got = rb.Get(rb.messages);
  EXPECT_EQ(Offsets(got), (std::vector<int32_t>{4, 5})) << "only what it had not delivered";
  EXPECT_EQ(bob.cursor(), 5);

  client::Options other = ob;
  other.device = "bob-laptop";
  EXPECT_THROW(Client c(other), std::invalid_argument) << "the file belongs to bob-phone";
}

}  // namespace
}  // namespace courier::client_test
