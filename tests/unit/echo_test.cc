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

constexpr int kDevice = 2, kReceiver = 3;

TEST(Echo, DeviceCopyToTheSendingDeviceOnTheUserInboxIsAnEcho) {
  EXPECT_TRUE(IsEchoToSendingDevice(kTopics, "msg/alice/inbox", "alice-phone",
                                    Copy(kDevice, "alice", "alice-phone")));
}

TEST(Echo, OtherDevicesOfTheSenderGetTheDeviceCopy) {
  EXPECT_FALSE(IsEchoToSendingDevice(kTopics, "msg/alice/inbox", "alice-laptop",
                                     Copy(kDevice, "alice", "alice-phone")));
}

TEST(Echo, ReceiverCopiesAreNeverEchoes) {
  // A RECEIVER copy names its sender's device, which is not the reader, but
  // the type alone must decide.
  EXPECT_FALSE(IsEchoToSendingDevice(kTopics, "msg/bob/inbox", "alice-phone",
                                     Copy(kReceiver, "alice", "alice-phone")));
}

TEST(Echo, PulledEntriesAndOtherTopicsAreNeverEchoes) {
  const std::string copy = Copy(kDevice, "alice", "alice-phone");
  for (const char* topic : {"msg/alice/devices/alice-phone/inbox", "msg/alice/events", "msg/alice",
                            "other/alice/inbox", "msg/alice/inbox/x", "msg/alice/send"}) {
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

TEST(Echo, EveryTruncationIsReadSafelyAndDelivered) {
  const std::string copy = Copy(kDevice, "alice", "alice-phone");
  for (size_t n = 0; n < copy.size(); ++n) {
    // Cut inside a field, the bytes are malformed and must be delivered;
    // cut between fields, the type or the sender may be missing. Either
    // way nothing is read past the end (ASan checks this in CI).
    std::string cut = copy.substr(0, n);
    (void)IsEchoToSendingDevice(kTopics, "msg/alice/inbox", "alice-phone", cut);
  }
  EXPECT_FALSE(IsEchoToSendingDevice(kTopics, "msg/alice/inbox", "alice-phone", copy.substr(0, 10)));
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
  copy += std::string("\xda\x02\x03" "abc", 6);
  EXPECT_TRUE(IsEchoToSendingDevice(kTopics, "msg/alice/inbox", "alice-phone", copy));
}

}  // namespace
}  // namespace courier::core
