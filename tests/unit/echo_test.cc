#include "echo.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "messaging.pb.h"

namespace courier::core {
namespace {

const Topics kTopics("msg");

std::string Copy(int signal_type, const std::string& user, const std::string& device) {
  v1::Message m;
  m.set_id("m1");
  m.set_signal_offset(7);
  m.set_user_offset(3);
  m.mutable_from()->set_user(user);
  m.mutable_from()->set_device(device);
  m.mutable_to()->set_user("bob");
  m.set_timestamp(1700000000000);
  m.set_payload(std::string(100, 'x'));
  m.set_signal_type(signal_type);
  m.set_signal_offset_state(true);
  m.mutable_signal_ack_state()->set_send(true);
  m.set_server_timestamp(1700000000001);
  return m.SerializeAsString();
}

constexpr int kDevice = courier::v1::SIGNAL_TYPE_DEVICE, kReceiver = courier::v1::SIGNAL_TYPE_RECEIVER;

TEST(Echo, DeviceCopyToTheSendingDeviceOnTheUserInboxIsAnEcho) {
  EXPECT_TRUE(IsEchoToSendingDevice(kTopics, "msg/alice/inbox", "alice-phone", Copy(kDevice, "alice", "alice-phone")));
}

TEST(Echo, OtherDevicesOfTheSenderGetTheDeviceCopy) {
  EXPECT_FALSE(
      IsEchoToSendingDevice(kTopics, "msg/alice/inbox", "alice-laptop", Copy(kDevice, "alice", "alice-phone")));
}

TEST(Echo, ReceiverCopiesAreNeverEchoes) {
  // A RECEIVER copy names its sender's device, which is not the reader, but
  // the type alone must decide.
  EXPECT_FALSE(IsEchoToSendingDevice(kTopics, "msg/bob/inbox", "alice-phone", Copy(kReceiver, "alice", "alice-phone")));
}

TEST(Echo, PulledEntriesAndOtherTopicsAreNeverEchoes) {
  const std::string copy = Copy(kDevice, "alice", "alice-phone");
  for (const char* topic : {"msg/alice/devices/alice-phone/inbox", "msg/alice/events", "msg/alice", "other/alice/inbox",
                            "msg/alice/inbox/x", "msg/alice/send"}) {
    EXPECT_FALSE(IsEchoToSendingDevice(kTopics, topic, "alice-phone", copy)) << topic;
  }
}

TEST(Echo, FollowsTheConfiguredPrefix) {
  const Topics chat("chat/v1");
  const std::string copy = Copy(kDevice, "alice", "alice-phone");
  EXPECT_TRUE(IsEchoToSendingDevice(chat, "chat/v1/alice/inbox", "alice-phone", copy));
  EXPECT_FALSE(IsEchoToSendingDevice(chat, "msg/alice/inbox", "alice-phone", copy));
}

TEST(Echo, ACopyWithoutTypeOrSenderDeviceIsDelivered) {
  EXPECT_FALSE(IsEchoToSendingDevice(kTopics, "msg/alice/inbox", "alice-phone", Copy(0, "alice", "alice-phone")));
  EXPECT_FALSE(IsEchoToSendingDevice(kTopics, "msg/alice/inbox", "", Copy(kDevice, "alice", "")));
  v1::Message no_from;
  no_from.set_signal_type(kDevice);
  EXPECT_FALSE(IsEchoToSendingDevice(kTopics, "msg/alice/inbox", "alice-phone", no_from.SerializeAsString()));
  EXPECT_FALSE(IsEchoToSendingDevice(kTopics, "msg/alice/inbox", "alice-phone", ""));
}

// What the scanner must answer, by protobuf's own parser.
bool ParserSaysEcho(const std::string& bytes, const std::string& client_id) {
  v1::Message m;
  return m.ParseFromString(bytes) && m.signal_type() == kDevice && !client_id.empty() && m.from().device() == client_id;
}

TEST(Echo, EveryTruncationAgreesWithTheParser) {
  // Cut inside a field the bytes are malformed and delivered; cut between
  // fields, the type or the sender may be missing. Nothing is read past the
  // end (ASan checks this in CI).
  for (const std::string& copy : {Copy(kDevice, "alice", "alice-phone"), Copy(kReceiver, "bob", "alice-phone")}) {
    for (size_t n = 0; n <= copy.size(); ++n) {
      const std::string cut = copy.substr(0, n);
      EXPECT_EQ(IsEchoToSendingDevice(kTopics, "msg/alice/inbox", "alice-phone", cut),
                ParserSaysEcho(cut, "alice-phone"))
          << "cut at " << n << " of " << copy.size();
    }
  }
}

TEST(Echo, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    std::string bytes(rng() % 64, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    (void)IsEchoToSendingDevice(kTopics, "msg/alice/inbox", "alice-phone", bytes);
  }
}

TEST(Echo, UnknownFieldsOfEveryWireTypeAreSkipped) {
  std::string copy = Copy(kDevice, "alice", "alice-phone");
  // field 40 fixed64, field 41 fixed32, field 42 varint, field 43 bytes
  copy += std::string("\xc1\x02", 2) + std::string(8, '\x01');
  copy += std::string("\xcd\x02", 2) + std::string(4, '\x01');
  copy += std::string("\xd0\x02\x96\x01", 4);
  copy += std::string(
      "\xda\x02\x03"
      "abc",
      6);
  // field 44 a group holding a varint and a nested group 45, then its end
  copy += std::string(
      "\xe3\x02"
      "\x08\x01"
      "\xeb\x02"
      "\x10\x02"
      "\xec\x02"
      "\xe4\x02",
      12);
  ASSERT_TRUE(ParserSaysEcho(copy, "alice-phone"));
  EXPECT_TRUE(IsEchoToSendingDevice(kTopics, "msg/alice/inbox", "alice-phone", copy));
}

TEST(Echo, MalformedGroupsAreDelivered) {
  const std::string copy = Copy(kDevice, "alice", "alice-phone");
  // an end-group for another field, an end-group alone, an unclosed group,
  // field number 0
  for (const std::string& bad : {std::string("\xe3\x02\xec\x02", 4), std::string("\xe4\x02", 2),
                                 std::string("\xe3\x02\x08\x01", 4), std::string("\x00\x01", 2)}) {
    const std::string bytes = copy + bad;
    EXPECT_FALSE(ParserSaysEcho(bytes, "alice-phone"));
    EXPECT_FALSE(IsEchoToSendingDevice(kTopics, "msg/alice/inbox", "alice-phone", bytes));
  }
  // Groups nested deeper than the scanner reads.
  std::string deep = copy;
  for (int i = 0; i < 70; ++i) deep += std::string("\xe3\x02", 2);
  for (int i = 0; i < 70; ++i) deep += std::string("\xe4\x02", 2);
  EXPECT_FALSE(IsEchoToSendingDevice(kTopics, "msg/alice/inbox", "alice-phone", deep));
}

}  // namespace
}  // namespace courier::core
