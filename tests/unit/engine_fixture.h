// The fixture of the Engine tests: Engine::OnPublish and
// Engine::OnCompletion with hand-built completions; no store, no broker.
// The tests, by topic: engine_send_test.cc, engine_signal_test.cc,
// engine_completion_test.cc, engine_limits_test.cc.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine.h"
#include "reply.h"
#include "test_util.h"

// Named (not anonymous) namespace: every test file shares this one fixture
// type, which gtest requires of the tests of one suite.
namespace courier::core::engine_testing {

using courier::testing::AsMessage;
using courier::testing::AsSignal;
using courier::testing::Ident;
using courier::testing::Msg;
using courier::testing::TopicsOf;
using courier::v1::Message;
using courier::v1::Signal;
using storage::AppendRequest;
using storage::AppendResult;
using storage::Completion;
using storage::PullRequest;
using storage::PullResult;
using storage::ReceiptRequest;
using storage::ReceiptResult;
using storage::Status;

constexpr int64_t kNow = 1'700'000'000'123;

class EngineTest : public ::testing::Test {
 protected:
  Decision Publish(std::string_view topic, const std::string& payload, std::string_view user = "alice",
                   std::string_view client = "phone") const {
    return engine_.OnPublish(
        Inbound{.topic = topic, .payload = payload, .user = user, .client_id = client, .now_ms = kNow});
  }
  Decision Send(const Message& m, std::string_view user = "alice", std::string_view client = "phone") const {
    return Publish(engine_.topics().prefix() + "/" + std::string(user) + "/send", m.SerializeAsString(), user, client);
  }
  Decision SendSignal(const Signal& s, std::string_view user = "alice", std::string_view client = "phone") const {
    return Publish(engine_.topics().prefix() + "/" + std::string(user) + "/signal", s.SerializeAsString(), user,
                   client);
  }
  // The one AppendRequest of a send that passed validation.
  AppendRequest AppendOf(const Message& m, std::string_view user = "alice", std::string_view client = "phone") {
    Decision d = Send(m, user, client);
    EXPECT_TRUE(d.consumed);
    EXPECT_TRUE(d.publish.empty());
    EXPECT_EQ(d.requests.size(), 1u);
    if (d.requests.size() != 1 || !std::holds_alternative<AppendRequest>(d.requests[0])) {
      ADD_FAILURE() << "no AppendRequest";
      return {};
    }
    return std::get<AppendRequest>(d.requests[0]);
  }

  Engine engine_{CoreOptions{}};
};

// Expects `d` to be exactly one error Signal to alice's phone, and nothing stored.
inline void ExpectRejected(const Decision& d, std::string_view code, std::string_view id,
                           std::string_view topic = "msg/alice/devices/phone/events") {
  EXPECT_TRUE(d.consumed);
  EXPECT_TRUE(d.requests.empty()) << code;
  ASSERT_EQ(d.publish.size(), 1u) << code;
  EXPECT_EQ(d.publish[0].topic, topic);
  Signal s = AsSignal(d.publish[0]);
  EXPECT_EQ(s.type(), 3) << code;  // ERROR
  EXPECT_EQ(s.id(), id);
  ASSERT_TRUE(s.has_error()) << code;
  EXPECT_EQ(s.error().rfind(std::string(code) + ":", 0), 0u) << "error '" << s.error() << "' for " << code;
  EXPECT_GT(s.error().size(), code.size() + 2) << "no detail: " << s.error();
  EXPECT_FALSE(s.signal_offset_state());
}

// Expects `s` to be a transient error: RESPONSE, state false, error "code: ...".
inline void ExpectTransient(const Signal& s, std::string_view code, std::string_view id) {
  EXPECT_EQ(s.type(), 2) << code;  // RESPONSE
  EXPECT_FALSE(s.signal_offset_state());
  EXPECT_EQ(s.id(), id);
  ASSERT_TRUE(s.has_error()) << code;
  EXPECT_EQ(s.error().rfind(std::string(code) + ":", 0), 0u) << "error '" << s.error() << "' for " << code;
}

// What the store would return for `req`: alice's copy at `sender_offset`,
// the receiver's at `receiver_offset`, both at `user_offset`.
inline AppendResult Stored(const AppendRequest& req, int32_t sender_offset, int32_t receiver_offset,
                           int32_t user_offset) {
  AppendResult res;
  res.device_copy = req.message;
  res.device_copy.set_signal_offset(sender_offset);
  res.device_copy.set_user_offset(user_offset);
  res.device_copy.set_signal_type(2);
  for (const auto& u : req.receivers) {
    Message copy = req.message;
    copy.set_signal_offset(receiver_offset);
    copy.set_user_offset(user_offset);
    copy.set_signal_type(3);
    res.receivers.push_back(u);
    res.receiver_copies.push_back(copy);
  }
  return res;
}

inline const ::courier::core::Publish* Find(const std::vector<Publish>& out, std::string_view topic) {
  const ::courier::core::Publish* found = nullptr;
  for (const auto& p : out) {
    if (p.topic == topic) {
      EXPECT_EQ(found, nullptr) << "two publishes on " << topic;
      found = &p;
    }
  }
  return found;
}

inline void ExpectSenderAck(const Signal& ack, std::string_view id, int32_t offset, int32_t user_offset) {
  EXPECT_EQ(ack.id(), id);
  EXPECT_EQ(ack.type(), 2);         // RESPONSE
  EXPECT_EQ(ack.signal_type(), 1);  // SENDER
  EXPECT_EQ(ack.signal_offset(), offset);
  EXPECT_EQ(ack.user_offset(), user_offset);
  EXPECT_TRUE(ack.signal_offset_state());
  EXPECT_TRUE(ack.signal_ack_state().send());
  EXPECT_FALSE(ack.has_error());
}

// bob's RECEIVER copy at `offset` of a message alice sent from her phone,
// and alice's DEVICE copy at `peer_offset`, both with `state`.
inline ReceiptResult ReceiptStored(int32_t offset, int32_t peer_offset, bool read) {
  ReceiptResult res;
  res.changed = true;
  Message m = Msg("m1", "bob");
  *m.mutable_from() = Ident("alice", "phone");
  m.set_user_offset(2);
  m.mutable_signal_ack_state()->set_send(true);
  m.mutable_signal_ack_state()->set_received(true);
  m.mutable_signal_ack_state()->set_read(read);
  res.entry = m;
  res.entry.set_signal_offset(offset);
  res.entry.set_signal_type(3);
  res.peer_user = "alice";
  res.peer = m;
  res.peer->set_signal_offset(peer_offset);
  res.peer->set_signal_type(2);
  return res;
}

}  // namespace courier::core::engine_testing
