// The courier CLI as a user runs it: separate processes, printed lines, exit
// codes, against a real broker; then `courier inspect` on the store it left.
#include <regex>

#include <gtest/gtest.h>

#include "support/broker.h"
#include "support/device.h"
#include "proc/loopback.h"
#include "support/child.h"

#ifndef COURIER_CLI_PATH
#error "COURIER_CLI_PATH must be defined by the build"
#endif

namespace courier::client_test {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> Cli(std::initializer_list<std::string> args) {
  std::vector<std::string> argv = {COURIER_CLI_PATH};
  argv.insert(argv.end(), args);
  return argv;
}

// True when some line of `text` matches `pattern` (ECMAScript, whole line).
bool HasLine(const std::string& text, const std::string& pattern) {
  const std::regex re(pattern);
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (std::regex_match(line, re)) return true;
  }
  return false;
}

std::string Joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = std::make_unique<it::Broker>();
    ASSERT_TRUE(broker_->Start());
    port_ = std::to_string(broker_->port());
  }
  void TearDown() override {
    if (HasFailure()) std::fprintf(stderr, "----- broker log -----\n%s\n", broker_->log().c_str());
    broker_.reset();
  }

  // ---- the phases of SendAndListenBetweenTwoUsersThenInspect ----
  // alice sends m-1 from her phone: bob's listener prints it, alice's laptop
  // her own copy and then bob's delivered tick.
  void SendHelloBob(Child& bob, Child& alice) {
    const RunResult sent = RunProcess(Cli({"send", "-h", "127.0.0.1", "-p", port_, "-u", "alice", "-i", "alice-phone",
                                           "--to", "bob", "--id", "m-1", "hello", "bob"}));
    ASSERT_EQ(sent.exit_code, 0) << sent.err;
    EXPECT_EQ(sent.out, "sent id=m-1 offset=1 user_offset=1\n");

    auto line = bob.WaitForLine("message ");
    ASSERT_TRUE(line) << Joined(bob.lines());
    EXPECT_EQ(*line,
              "message offset=1 user_offset=1 from=alice/alice-phone to=bob kind=RECEIVER id=m-1 "
              "state=sent \"hello bob\"");
    // alice's laptop: her own copy, the acknowledgement, then delivered.
    line = alice.WaitForLine("message ");
    ASSERT_TRUE(line) << Joined(alice.lines());
    EXPECT_EQ(*line,
              "message offset=1 user_offset=1 from=alice/alice-phone to=bob kind=DEVICE id=m-1 "
              "state=sent \"hello bob\"");
    line = alice.WaitForLine("kind=RECEIVER");
    ASSERT_TRUE(line) << Joined(alice.lines());
    EXPECT_EQ(*line,
              "signal kind=RECEIVER id=m-1 offset=1 user_offset=1 state=delivered "
              "from=bob/bob-phone");
  }

  // bob reads it on another device: alice sees the read tick.
  void ReadOnBobsTablet(Child& bob, Child& alice) {
    const RunResult read =
        RunProcess(Cli({"read", "-h", "127.0.0.1", "-p", port_, "-u", "bob", "-i", "bob-tablet", "1"}));
    ASSERT_EQ(read.exit_code, 0) << read.err;
    EXPECT_EQ(read.out, "marked offset=1 state=read\n");
    auto line = alice.WaitForLine("state=read");
    ASSERT_TRUE(line) << Joined(alice.lines());
    EXPECT_EQ(*line,
              "signal kind=RECEIVER id=m-1 offset=1 user_offset=1 state=read "
              "from=bob/bob-tablet");
    line = bob.WaitForLine("state=read");  // bob's phone hears about its tablet
    ASSERT_TRUE(line) << Joined(bob.lines());
    EXPECT_EQ(*line,
              "signal kind=DEVICE id=m-1 offset=1 user_offset=1 state=read "
              "from=bob/bob-tablet");
  }

  // Typing reaches bob's listener.
  void TypeToBob(Child& bob) {
    const RunResult typing = RunProcess(Cli({"typing", "-h", "127.0.0.1", "-p", port_, "-u", "alice", "--to", "bob"}));
    ASSERT_EQ(typing.exit_code, 0) << typing.err;
    EXPECT_EQ(typing.out, "activity to=bob status=TYPING\n");
    auto line = bob.WaitForLine("signal activity");
    ASSERT_TRUE(line);
    EXPECT_EQ(*line, "signal activity from=alice/alice-cli to=bob status=TYPING");
  }

  // A later `sync` of a new device prints the backlog and stops at the head.
  void SyncNewDeviceOfBob() {
    const RunResult sync =
        RunProcess(Cli({"sync", "-h", "127.0.0.1", "-p", port_, "-u", "bob", "-i", "bob-watch", "--from-start"}));
    ASSERT_EQ(sync.exit_code, 0) << sync.err;
    EXPECT_TRUE(HasLine(sync.out, "message offset=1 .* id=m-1 state=read \"hello bob\"")) << sync.out;
    EXPECT_TRUE(HasLine(sync.out, "synced head=1 cursor=1")) << sync.out;
  }

  // The store, read-only (the broker still runs).
  void InspectTheStore() {
    const RunResult inspect = RunProcess(Cli({"inspect", broker_->db_path()}));
    ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
    const std::string& out = inspect.out;
    EXPECT_TRUE(HasLine(out, "store path=.* schema=2")) << out;
    EXPECT_TRUE(HasLine(out, "table name=copies entries=2")) << out;
    EXPECT_TRUE(HasLine(out, "head user=alice offset=1")) << out;
    EXPECT_TRUE(HasLine(out, "head user=bob offset=1")) << out;
    EXPECT_TRUE(HasLine(out, "cursor user=bob device=bob-phone offset=1")) << out;
    EXPECT_TRUE(HasLine(out, "cursor user=bob device=bob-tablet offset=1")) << out;
    EXPECT_TRUE(HasLine(out, "dedup sender=alice id=m-1 offset=1")) << out;
    EXPECT_TRUE(HasLine(out,
                        "entry user=alice offset=1 user_offset=1 from=alice/alice-phone to=bob "
                        "kind=DEVICE id=m-1 state=read peer=bob/1.* \"hello bob\""))
        << out;
    EXPECT_TRUE(HasLine(out,
                        "entry user=bob offset=1 user_offset=1 from=alice/alice-phone to=bob "
                        "kind=RECEIVER id=m-1 state=read peer=alice/1.* \"hello bob\""))
        << out;

    const RunResult only_bob = RunProcess(Cli({"inspect", "--user", "bob", "--no-entries", broker_->db_path()}));
    ASSERT_EQ(only_bob.exit_code, 0);
    EXPECT_FALSE(HasLine(only_bob.out, "head user=alice.*")) << only_bob.out;
    EXPECT_FALSE(HasLine(only_bob.out, "entry .*")) << only_bob.out;
    EXPECT_TRUE(HasLine(only_bob.out, "head user=bob offset=1")) << only_bob.out;
  }

  std::unique_ptr<it::Broker> broker_;
  std::string port_;
};

TEST_F(CliTest, SendAndListenBetweenTwoUsersThenInspect) {
  // bob's phone acknowledges what it gets (delivered tick); alice's laptop
  // watches her messages' ticks change.
  auto bob = Child::Spawn(Cli({"listen", "-h", "127.0.0.1", "-p", port_, "-u", "bob", "-i", "bob-phone", "--ack"}));
  auto alice = Child::Spawn(Cli({"listen", "-h", "127.0.0.1", "-p", port_, "-u", "alice", "-i", "alice-laptop"}));
  ASSERT_TRUE(bob && alice);
  ASSERT_EQ(bob->ReadLine(), "ready user=bob device=bob-phone");
  ASSERT_EQ(alice->ReadLine(), "ready user=alice device=alice-laptop");
  ASSERT_TRUE(bob->WaitForLine("synced head=0")) << Joined(bob->lines());
  ASSERT_TRUE(alice->WaitForLine("synced head=0")) << Joined(alice->lines());

  ASSERT_NO_FATAL_FAILURE(SendHelloBob(*bob, *alice));
  ASSERT_NO_FATAL_FAILURE(ReadOnBobsTablet(*bob, *alice));
  ASSERT_NO_FATAL_FAILURE(TypeToBob(*bob));

  // SIGTERM ends a listener cleanly.
  bob->Signal(SIGTERM);
  alice->Signal(SIGTERM);
  EXPECT_EQ(bob->Wait(), 0) << bob->err();
  EXPECT_EQ(alice->Wait(), 0) << alice->err();

  ASSERT_NO_FATAL_FAILURE(SyncNewDeviceOfBob());
  InspectTheStore();
}

// What a listener with --ack printed, a later --pull of the same device does
// not print again: its own messages from another device (DEVICE copies)
// included, whose receipts move only the cursor.
TEST_F(CliTest, ListenAckMovesTheCursorPastOwnMessagesFromOtherDevices) {
  auto phone = Child::Spawn(Cli({"listen", "-h", "127.0.0.1", "-p", port_, "-u", "bob", "-i", "bob-phone", "--ack"}));
  ASSERT_TRUE(phone);
  ASSERT_TRUE(phone->WaitForLine("synced head=0")) << Joined(phone->lines());
  const RunResult sent = RunProcess(Cli({"send", "-h", "127.0.0.1", "-p", port_, "-u", "bob", "-i", "bob-tablet",
                                         "--to", "alice", "--id", "b-1", "hi", "alice"}));
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  auto line = phone->WaitForLine("message ");
  ASSERT_TRUE(line) << Joined(phone->lines());
  EXPECT_EQ(*line,
            "message offset=1 user_offset=1 from=bob/bob-tablet to=alice kind=DEVICE id=b-1 "
            "state=sent \"hi alice\"");
  // SIGTERM closes the client, which waits for its receipts to be acknowledged.
  phone->Signal(SIGTERM);
  EXPECT_EQ(phone->Wait(), 0) << phone->err();

  const RunResult inspect = RunProcess(Cli({"inspect", "--no-entries", broker_->db_path()}));
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_TRUE(HasLine(inspect.out, "cursor user=bob device=bob-phone offset=1")) << inspect.out;
  const RunResult again = RunProcess(Cli({"sync", "-h", "127.0.0.1", "-p", port_, "-u", "bob", "-i", "bob-phone"}));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_FALSE(HasLine(again.out, "message .*")) << again.out;
  EXPECT_TRUE(HasLine(again.out, "synced head=1 cursor=1")) << again.out;
  // The message's state is untouched: only alice can receive or read it.
  const RunResult tablet =
      RunProcess(Cli({"sync", "-h", "127.0.0.1", "-p", port_, "-u", "bob", "-i", "bob-watch", "--from-start"}));
  ASSERT_EQ(tablet.exit_code, 0) << tablet.err;
  EXPECT_TRUE(HasLine(tablet.out, "message offset=1 .* kind=DEVICE id=b-1 state=sent \"hi alice\"")) << tablet.out;
}

// send --edit / --recall, what listen and sync print for them, and that the
// recalled content is gone from `courier inspect`.
TEST_F(CliTest, EditAndRecallShowInListenSyncAndInspect) {
  auto bob = Child::Spawn(Cli({"listen", "-h", "127.0.0.1", "-p", port_, "-u", "bob", "-i", "bob-phone"}));
  ASSERT_TRUE(bob);
  ASSERT_TRUE(bob->WaitForLine("synced head=0")) << Joined(bob->lines());
  auto send = [&](std::initializer_list<std::string> extra) {
    std::vector<std::string> argv =
        Cli({"send", "-h", "127.0.0.1", "-p", port_, "-u", "alice", "-i", "alice-phone", "--to", "bob"});
    argv.insert(argv.end(), extra);
    return RunProcess(argv);
  };
  ASSERT_EQ(send({"--id", "m-1", "see", "you", "at", "8"}).exit_code, 0);
  const RunResult edited = send({"--id", "e-1", "--edit", "m-1", "see", "you", "at", "9"});
  ASSERT_EQ(edited.exit_code, 0) << edited.err;
  EXPECT_EQ(edited.out, "sent id=e-1 offset=2 user_offset=2\n");
  auto line = bob->WaitForLine("id=e-1");
  ASSERT_TRUE(line) << Joined(bob->lines());
  EXPECT_EQ(*line,
            "message offset=2 user_offset=2 from=alice/alice-phone to=bob kind=RECEIVER id=e-1 "
            "state=sent replaces=m-1 \"see you at 9\" (edited)");
  const RunResult recalled = send({"--id", "r-1", "--recall", "m-1"});
  ASSERT_EQ(recalled.exit_code, 0) << recalled.err;
  line = bob->WaitForLine("id=r-1");
  ASSERT_TRUE(line) << Joined(bob->lines());
  EXPECT_EQ(*line,
            "message offset=3 user_offset=3 from=alice/alice-phone to=bob kind=RECEIVER id=r-1 "
            "state=sent replaces=m-1 (message recalled)");
  EXPECT_EQ(send({"--id", "e-2", "--edit", "m-1", "too", "late"}).err,
            "error: already_recalled: the message was recalled\n");
  EXPECT_EQ(send({"--recall", "m-1", "with", "text"}).exit_code, 1) << "--recall takes no TEXT";
  bob->Signal(SIGTERM);
  EXPECT_EQ(bob->Wait(), 0) << bob->err();

  const RunResult sync =
      RunProcess(Cli({"sync", "-h", "127.0.0.1", "-p", port_, "-u", "bob", "-i", "bob-tablet", "--from-start"}));
  ASSERT_EQ(sync.exit_code, 0) << sync.err;
  EXPECT_TRUE(HasLine(sync.out, "message offset=1 .* id=m-1 state=sent \\(message recalled\\)")) << sync.out;
  EXPECT_TRUE(HasLine(sync.out, "message offset=2 .* id=e-1 state=sent replaces=m-1 \\(message recalled\\)"))
      << sync.out;
  const RunResult inspect = RunProcess(Cli({"inspect", broker_->db_path()}));
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_TRUE(HasLine(inspect.out, "entry user=bob offset=1 .*id=m-1 .*message recalled.*")) << inspect.out;
  EXPECT_EQ(inspect.out.find("see you"), std::string::npos) << inspect.out;
}

// The reference push gateway prints the call the plugin makes for an
// offline device, with a signature that checks out.
TEST(CliPushGatewayTest, PrintsThePushOfAnOfflineDevice) {
  auto gateway = Child::Spawn(Cli({"push-gateway", "--port", "0", "--secret", "s3cret"}));
  ASSERT_TRUE(gateway);
  auto first = gateway->ReadLine();
  ASSERT_TRUE(first);
  std::smatch m;
  ASSERT_TRUE(std::regex_match(*first, m, std::regex("listening url=http://127.0.0.1:([0-9]+)/ status=200"))) << *first;
  it::BrokerOptions bo;
  bo.plugin_opts = {
      {"push_url", "http://127.0.0.1:" + m[1].str() + "/push"}, {"push_secret", "s3cret"}, {"push_coalesce_ms", "100"}};
  it::Broker broker(bo);
  ASSERT_TRUE(broker.Start());
  it::CourierDevice phone(broker.port(), "bob", "bob-phone");
  ASSERT_TRUE(phone.Connect());
  v1::Signal reg;
  reg.set_id("reg");
  reg.set_type(it::kRequest);
  reg.mutable_push()->set_app("chat");
  reg.mutable_push()->set_token("tok-1");
  ASSERT_TRUE(phone.Signal(reg));
  ASSERT_TRUE(phone.NextDeviceEvent([](const v1::Signal& s) { return s.id() == "reg"; }));
  phone.Disconnect();
  const RunResult sent = RunProcess(Cli({"send", "-h", "127.0.0.1", "-p", std::to_string(broker.port()), "-u", "alice",
                                         "-i", "alice-phone", "--to", "bob", "--id", "m-1", "hi"}));
  ASSERT_EQ(sent.exit_code, 0) << sent.err;
  auto line = gateway->WaitForLine("push ");
  ASSERT_TRUE(line) << Joined(gateway->lines());
  EXPECT_EQ(*line,
            "push user=bob device=bob-phone app=chat token=tok-1 id=m-1 from=alice signal_offset=1 "
            "user_offset=1 count=1 undelivered=1 priority=0 key=bob/bob-phone/1 signature=ok");
  gateway->Signal(SIGTERM);
  EXPECT_EQ(gateway->Wait(), 0) << gateway->err();
}

TEST_F(CliTest, ChatSendsTypedLinesAndShowsTicks) {
  auto bob = Child::Spawn(Cli({"listen", "-h", "127.0.0.1", "-p", port_, "-u", "bob", "-i", "bob-phone", "--read"}));
  ASSERT_TRUE(bob);
  ASSERT_TRUE(bob->WaitForLine("synced"));
  auto chat = Child::Spawn(Cli({"chat", "-h", "127.0.0.1", "-p", port_, "-u", "alice", "--to", "bob"}));
  ASSERT_TRUE(chat);
  chat->WriteStdin("hi bob\n");
  auto line = chat->WaitForLine("> me #1: hi bob (sent)");
  ASSERT_TRUE(line) << Joined(chat->lines()) << chat->err();
  line = chat->WaitForLine("> me #1: read");  // bob's listener reads it
  ASSERT_TRUE(line) << Joined(chat->lines()) << chat->err();
  line = bob->WaitForLine("message ");
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("\"hi bob\""), std::string::npos) << *line;

  // A reply from bob shows up in the chat, marked read by it.
  const RunResult reply =
      RunProcess(Cli({"send", "-h", "127.0.0.1", "-p", port_, "-u", "bob", "--to", "alice", "hello", "alice"}));
  ASSERT_EQ(reply.exit_code, 0) << reply.err;
  line = chat->WaitForLine("< bob #2: hello alice");
  ASSERT_TRUE(line) << Joined(chat->lines());
  line = bob->WaitForLine("state=read from=alice/alice-cli");
  ASSERT_TRUE(line) << Joined(bob->lines());

  chat->CloseStdin();  // Ctrl-D
  EXPECT_EQ(chat->Wait(), 0) << chat->err();
  bob->Signal(SIGINT);
  EXPECT_EQ(bob->Wait(), 0);
}

TEST_F(CliTest, ExitCodes) {
  const std::string p = port_;
  // 0: help of every command.
  for (const char* cmd : {"send", "listen", "sync", "read", "typing", "chat", "admin", "inspect"}) {
    const RunResult help = RunProcess(Cli({cmd, "--help"}));
    EXPECT_EQ(help.exit_code, 0) << cmd;
    EXPECT_NE(help.out.find(std::string("usage: courier ") + cmd), std::string::npos) << cmd;
  }
  EXPECT_EQ(RunProcess(Cli({"--help"})).exit_code, 0);
  // 1: usage.
  EXPECT_EQ(RunProcess(Cli({})).exit_code, 1);
  EXPECT_EQ(RunProcess(Cli({"frobnicate"})).exit_code, 1);
  EXPECT_EQ(RunProcess(Cli({"send", "-p", p, "--to", "bob", "x"})).exit_code, 1) << "no -u";
  EXPECT_EQ(RunProcess(Cli({"send", "-p", p, "-u", "alice", "x"})).exit_code, 1) << "no --to";
  EXPECT_EQ(RunProcess(Cli({"send", "-p", "0", "-u", "a", "--to", "b", "x"})).exit_code, 1);
  EXPECT_EQ(RunProcess(Cli({"listen", "-u", "a", "--count", "x"})).exit_code, 1);
  EXPECT_EQ(RunProcess(Cli({"send", "-u", "a", "--to", "b", "--cafile", "/nonexistent", "x"})).exit_code, 1)
      << "unreadable CA file";
  // 2: nobody listens on the port.
  const std::string closed = std::to_string(proc::PickFreePort());
  const RunResult down = RunProcess(Cli({"send", "-p", closed, "-u", "alice", "--to", "bob", "--timeout", "1", "x"}));
  EXPECT_EQ(down.exit_code, 2) << down.err;
  EXPECT_NE(down.err.find("error: cannot connect"), std::string::npos) << down.err;
  // 3: the server rejects it.
  const RunResult bad = RunProcess(Cli({"send", "-p", p, "-u", "alice", "--to", "a+b", "x"}));
  EXPECT_EQ(bad.exit_code, 3);
  EXPECT_NE(bad.err.find("error: invalid_recipient: "), std::string::npos) << bad.err;
  const RunResult unknown = RunProcess(Cli({"read", "-p", p, "-u", "alice", "42"}));
  EXPECT_EQ(unknown.exit_code, 3);
  EXPECT_NE(unknown.err.find("error: unknown_offset"), std::string::npos) << unknown.err;
  // 4: listen --count not reached in time (connected, but nothing came).
  const RunResult few = RunProcess(Cli({"listen", "-p", p, "-u", "alice", "--count", "1", "--timeout", "2"}));
  EXPECT_EQ(few.exit_code, 4) << few.err;
  // 6: not a store.
  TempDir empty;
  EXPECT_EQ(RunProcess(Cli({"inspect", empty.path() + "/none"})).exit_code, 6);
}

}  // namespace
}  // namespace courier::client_test
