// courier_fuzz_seeds <dir>: writes the seed corpus of courier_fuzz_inbound
// (one file per scenario, layout in fuzz/input.h): valid messages, receipts,
// pulls, pushes and activity, dedup and conflicts, one input per error code,
// ACL probes, quota and rate-limit sequences, and names at the store's key
// limits.
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "input.h"
#include "messaging.pb.h"

namespace courier::fuzz {
namespace {

using courier::v1::Message;
using courier::v1::Signal;

Message Msg(const std::string& id, const std::string& to, const std::string& payload = "hi") {
  Message m;
  m.set_id(id);
  m.mutable_to()->set_user(to);
  m.set_payload(payload);
  m.set_encryption_type("none");
  m.set_timestamp(kBaseMs - 5000);
  return m;
}

Signal Receipt(int32_t offset, bool read, int32_t request = 0, uint32_t limit = 0) {
  Signal s;
  s.set_id("r" + std::to_string(offset));
  s.set_signal_offset(offset);
  s.mutable_signal_ack_state()->set_received(true);
  s.mutable_signal_ack_state()->set_read(read);
  s.set_signal_request(request);
  s.set_limit(limit);
  return s;
}

Signal Pull(int32_t after, uint32_t limit, int32_t request = 1) {
  Signal s;
  s.set_id("p");
  s.set_type(1);
  s.set_signal_request(request);
  s.set_signal_offset(after);
  s.set_limit(limit);
  return s;
}

Signal Activity(const std::string& to, int status) {
  Signal s;
  s.set_status(status);
  s.mutable_to()->set_user(to);
  return s;
}

Record Rec(TopicKind topic, Who who, const google::protobuf::MessageLite& payload, bool flush = true,
           Clock clock = Clock::kTick) {
  Record r;
  r.topic = topic;
  r.who = who;
  r.flush = flush;
  r.clock = clock;
  r.payload = payload.SerializeAsString();
  return r;
}

Record Send(Who who, const Message& m, bool flush = true) { return Rec(TopicKind::kOwnSend, who, m, flush); }
Record Sig(Who who, const Signal& s, bool flush = true) { return Rec(TopicKind::kOwnSignal, who, s, flush); }

std::vector<std::pair<std::string, std::string>> Seeds() {
  std::vector<std::pair<std::string, std::string>> out;
  auto add = [&](const std::string& name, const Writer& w) { out.emplace_back(name, w.bytes()); };
  using W = Who;

  add("send", Writer(0).Add(Send(W::kAlice1, Msg("m1", "bob"))));
  {
    Message m = Msg("m-all", "bob", "payload");
    m.set_encryption_type("AES256");
    m.set_encrypted("YWJjZA==");
    m.set_signature("c2lnbmF0dXJl");
    m.set_type(7);
    m.set_priority(3);
    m.set_expiry(60);
    m.mutable_from()->set_user("mallory");  // spoofed: the engine overwrites it
    m.set_signal_offset(99);
    add("send_all_fields", Writer(0).Add(Send(W::kAlice1, m)));
  }
  add("conversation", Writer(0)
                          .Add(Send(W::kAlice1, Msg("m1", "bob")))
                          .Add(Send(W::kAlice2, Msg("m2", "bob"), false))
                          .Add(Sig(W::kBob1, Receipt(1, false)))
                          .Add(Sig(W::kBob1, Receipt(2, true, 1, 2)))
                          .Add(Sig(W::kAlice1, Pull(-1, 0)))
                          .Add(Sig(W::kAlice2, Pull(0, 5)))
                          .Add(Sig(W::kBob1, Pull(0, 0, 2)))
                          .Add(Sig(W::kAlice1, Receipt(1, true))));
  add("dedup", Writer(0)
                   .Add(Send(W::kAlice1, Msg("d1", "bob"), false))
                   .Add(Send(W::kAlice2, Msg("d1", "bob"), false))
                   .Add(Send(W::kAlice1, Msg("d1", "bob", "other content")))
                   .Add(Send(W::kAlice1, Msg("d1", "bob"))));
  add("self", Writer(0).Add(Send(W::kAlice1, Msg("note", "alice"))).Add(Sig(W::kAlice2, Receipt(1, true))));
  add("activity", Writer(0)
                      .Add(Sig(W::kAlice1, Activity("bob", 4), false))
                      .Add(Sig(W::kAlice1, Activity("bob", 9), false))
                      .Add(Sig(W::kAlice1, Activity("", 1), false))
                      .Add(Sig(W::kBob1, Activity("b/ob", 2))));
  add("id_too_long", Writer(0).Add(Send(W::kAlice1, Msg(std::string(129, 'x'), "bob"))));
  {
    // Variant 1: small limits (ids up to 8 bytes, payloads up to 64, clock
    // skew 60 s), so every message error fits in a small input.
    Writer w(1);
    Message m = Msg("", "bob");
    w.Add(Send(W::kAlice1, m, false));
    w.Add(Send(W::kAlice1, Msg("123456789", "bob"), false));
    m = Msg("grp", "");
    m.mutable_to()->set_group("friends");
    w.Add(Send(W::kAlice1, m, false));
    w.Add(Send(W::kAlice1, Msg("slash", "bo/b"), false));
    w.Add(Send(W::kAlice1, Msg("big", "bob", std::string(65, 'p')), false));
    m = Msg("enc", "bob");
    m.set_encryption_type("rot13");
    w.Add(Send(W::kAlice1, m, false));
    m = Msg("b64", "bob");
    m.set_encrypted("abc");
    w.Add(Send(W::kAlice1, m, false));
    m = Msg("sig", "bob");
    m.set_signature("a===");
    w.Add(Send(W::kAlice1, m, false));
    m = Msg("past", "bob");
    m.set_timestamp(-1);
    w.Add(Send(W::kAlice1, m, false));
    m = Msg("future", "bob");
    m.set_timestamp(kBaseMs + 120 * 1000);
    w.Add(Send(W::kAlice1, m, false));
    m = Msg("fnf", "bob");
    m.set_transient(true);
    w.Add(Send(W::kAlice1, m, false));
    Record garbage;
    garbage.payload = std::string(
        "\x0a\x05"
        "ab",
        4);
    w.Add(garbage);
    add("message_errors", w);
  }
  {
    Writer w(0);
    Signal s = Receipt(1, false);
    s.set_type(7);
    w.Add(Sig(W::kBob1, s, false));
    w.Add(Sig(W::kBob1, Pull(0, 1, 5), false));
    w.Add(Sig(W::kBob1, Pull(-2, 1), false));
    w.Add(Sig(W::kBob1, Receipt(0, false), false));
    w.Add(Sig(W::kBob1, Receipt(99, false), false));
    w.Add(Sig(W::kBob1, Signal(), false));
    Record garbage;
    garbage.topic = TopicKind::kOwnSignal;
    garbage.payload = std::string(
        "\x0a\x05"
        "ab",
        4);
    w.Add(garbage);
    add("signal_errors", w);
  }
  {
    Writer w(0);
    const Message m = Msg("acl", "alice");
    w.Add(Rec(TopicKind::kOtherSend, W::kAlice1, m, false));
    w.Add(Rec(TopicKind::kOtherSignal, W::kAlice1, Receipt(1, true), false));
    w.Add(Rec(TopicKind::kOwnInbox, W::kAlice1, m, false));
    w.Add(Rec(TopicKind::kDeviceEvents, W::kAlice1, Receipt(1, true), false));
    Record outside = Rec(TopicKind::kRaw, W::kAlice1, m, false);
    outside.raw_topic = "other/alice/send";
    w.Add(outside);
    Record raw = Rec(TopicKind::kRaw, W::kAlice1, m, false);
    raw.raw_topic = "msg/bob/devices/b1/inbox";
    w.Add(raw);
    raw.raw_topic = "msg/alice/#";
    w.Add(raw);
    raw.raw_topic = "msg/+/send";
    w.Add(raw);
    for (const auto& [user, client] :
         std::vector<std::pair<std::string, std::string>>{{"", "anon"},
                                                          {"ev+il", "e1"},
                                                          {"a/b", "x"},
                                                          {"alice", "c#1"},
                                                          {"alice", ""},
                                                          {std::string("nul\0l", 5), "n1"}}) {
      Record r = Send(W::kRaw, Msg("who", "bob"), false);
      r.raw_user = user;
      r.raw_client = client;
      w.Add(r);
    }
    add("acl_probes", w);
  }
  add("quota", Writer(3)
                   .Add(Send(W::kAlice1, Msg("q1", "bob")))
                   .Add(Send(W::kAlice1, Msg("q2", "bob")))
                   .Add(Sig(W::kBob1, Receipt(1, false)))
                   .Add(Rec(TopicKind::kOwnSend, W::kAlice1, Msg("q2", "bob"), true, Clock::kLater)));
  {
    Writer w(0, true);
    for (int i = 0; i < 5; ++i) {
      w.Add(Rec(TopicKind::kOwnSend, W::kAlice1, Msg("rl" + std::to_string(i), "bob"), false, Clock::kSame));
    }
    w.Add(Rec(TopicKind::kOwnSend, W::kAlice1, Msg("rl4", "bob"), true, Clock::kLater));
    add("rate_limit", w);
  }
  add("prefix_small_limits", Writer(1)
                                 .Add(Send(W::kAlice1, Msg("12345678", "bob", std::string(60, 'x'))))
                                 .Add(Send(W::kAlice1, Msg("123456789", "bob")))
                                 .Add(Sig(W::kBob1, Receipt(1, true, 1, 0)))
                                 .Add(Sig(W::kBob1, Pull(0, 100))));
  {
    Writer w(2);
    Record r = Send(W::kRaw, Msg(std::string(256, 'i'), std::string(254, 'r')), true);
    r.raw_user = std::string(254, 'u');
    r.raw_client = std::string(254, 'c');
    w.Add(r);
    Record receipt = Rec(TopicKind::kOwnSignal, W::kRaw, Receipt(1, true, 1, 0));
    receipt.raw_user = std::string(254, 'r');
    receipt.raw_client = std::string(254, 'd');
    w.Add(receipt);
    add("longest_names", w);
  }
  {
    // Variant 3 makes alice an admin: groups through the admin API, group
    // messages, activity and transient messages, a non-member, a non-admin.
    auto control = [](Who who, const std::string& json, bool flush = true) {
      Record r;
      r.topic = TopicKind::kControl;
      r.who = who;
      r.flush = flush;
      r.payload = json;
      return r;
    };
    Writer w(3);
    w.Add(control(W::kAlice1, R"({"commands":[{"command":"createGroup","group":"g1","members":["alice","bob"],)"
                              R"("correlationData":"c1"},{"command":"addGroupMember","group":"g1","user":"carol"}]})"));
    Message gm = Msg("gm1", "");
    gm.mutable_to()->set_group("g1");
    w.Add(Send(W::kBob1, gm));
    w.Add(Sig(W::kAlice2, Receipt(1, true)));
    Message unknown = Msg("gm2", "");
    unknown.mutable_to()->set_group("nope");
    w.Add(Send(W::kBob1, unknown, false));
    Record stranger = Send(W::kRaw, gm, false);
    stranger.raw_user = "eve";
    stranger.raw_client = "e1";
    w.Add(stranger);
    Signal typing = Activity("", 4);
    typing.mutable_to()->set_group("g1");
    w.Add(Sig(W::kBob1, typing, false));
    Message fnf = Msg("gm3", "");
    fnf.mutable_to()->set_group("g1");
    fnf.set_transient(true);
    w.Add(Send(W::kBob1, fnf));
    w.Add(control(W::kAlice1,
                  R"({"commands":[{"command":"getGroup","group":"g1"},{"command":"getUser","user":"bob"},)"
                  R"({"command":"listGroups"},{"command":"getStats"},{"command":"removeGroupMember",)"
                  R"("group":"g1","user":"carol"},{"command":"deleteGroup","group":"g1"},{"command":"x"}]})"));
    w.Add(control(W::kBob1, R"({"commands":[{"command":"createGroup","group":"mine","members":["bob"]}]})"));
    w.Add(control(W::kAlice1, R"({"commands":[{"command":"createGroup","group":"g/1"}, 7]})"));
    w.Add(control(W::kAlice1, "not json"));
    add("admin_groups", w);
  }
  {
    Writer w(0);
    Message fnf = Msg("fnf", "bob");
    fnf.set_transient(true);
    w.Add(Send(W::kAlice1, fnf));
    add("transient", w);
  }
  {
    // Variant 3: expiry 5 s by default, 60 s at most; retention 1 s.
    Writer w(3);
    Message soon = Msg("soon", "bob");
    soon.set_expiry(1);
    soon.set_priority(15);
    w.Add(Send(W::kAlice1, soon));
    Message high = Msg("high", "carol");
    high.set_priority(0);
    w.Add(Send(W::kAlice1, high));
    Message bad = Msg("badprio", "bob");
    bad.set_priority(16);
    w.Add(Send(W::kAlice1, bad));
    w.Add(Rec(TopicKind::kOwnSignal, W::kBob1, Pull(0, 10), true, Clock::kLater));
    w.Add(Rec(TopicKind::kOwnSignal, W::kBob1, Pull(-1, 10), true, Clock::kLater));
    add("expiry_priority", w);
  }
  {
    Record r = Send(W::kAlice1, Msg("clock", "bob"));
    r.clock = Clock::kRaw;
    r.raw_seconds = 0;
    add("raw_clock", Writer(0).Add(r));
  }
  return out;
}

}  // namespace
}  // namespace courier::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  for (const auto& [name, bytes] : courier::fuzz::Seeds()) {
    std::ofstream f(std::string(argv[1]) + "/" + name, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) {
      std::fprintf(stderr, "cannot write %s/%s\n", argv[1], name.c_str());
      return 1;
    }
  }
  return 0;
}
