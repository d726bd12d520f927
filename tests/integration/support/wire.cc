#include "support/wire.h"

#include <chrono>

namespace courier::it {
namespace {

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string SendTopic(const std::string& user) { return std::string(kPrefix) + "/" + user + "/send"; }
std::string SignalTopic(const std::string& user) { return std::string(kPrefix) + "/" + user + "/signal"; }
std::string InboxTopic(const std::string& user) { return std::string(kPrefix) + "/" + user + "/inbox"; }
std::string EventsTopic(const std::string& user) { return std::string(kPrefix) + "/" + user + "/events"; }
std::string DeviceInboxTopic(const std::string& user, const std::string& device) {
  return std::string(kPrefix) + "/" + user + "/devices/" + device + "/inbox";
}
std::string DeviceEventsTopic(const std::string& user, const std::string& device) {
  return std::string(kPrefix) + "/" + user + "/devices/" + device + "/events";
}

v1::Message NewMessage(const std::string& id, const std::string& to_user, const std::string& payload) {
  v1::Message m;
  m.set_id(id);
  m.mutable_to()->set_user(to_user);
  m.set_payload(payload);
  m.set_timestamp(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  return m;
}

v1::Signal Receipt(int offset, bool received, bool read) {
  v1::Signal s;
  s.set_signal_offset(offset);
  s.mutable_signal_ack_state()->set_received(received);
  s.mutable_signal_ack_state()->set_read(read);
  return s;
}

v1::Signal PullRequest(int offset, unsigned limit) {
  v1::Signal s;
  s.set_type(kRequest);
  s.set_signal_request(kPull);
  s.set_signal_offset(offset);
  s.set_limit(limit);
  return s;
}

v1::Signal Activity(const std::string& to_user, int status) {
  v1::Signal s;
  s.set_status(status);
  s.mutable_to()->set_user(to_user);
  return s;
}

std::string Bytes(const google::protobuf::MessageLite& m) {
  std::string out;
  m.SerializeToString(&out);
  return out;
}

std::optional<v1::Message> ParseMessage(const std::string& bytes) {
  v1::Message m;
  if (!m.ParseFromString(bytes)) return std::nullopt;
  return m;
}

std::optional<v1::Signal> ParseSignal(const std::string& bytes) {
  v1::Signal s;
  if (!s.ParseFromString(bytes)) return std::nullopt;
  return s;
}

std::string Describe(const v1::Message& m) { return "Message{" + m.ShortDebugString() + "}"; }
std::string Describe(const v1::Signal& s) { return "Signal{" + s.ShortDebugString() + "}"; }

std::string Describe(const Received& r) {
  std::string head = r.topic + ": ";
  if (EndsWith(r.topic, "/inbox")) {
    if (auto m = ParseMessage(r.payload)) return head + Describe(*m);
  } else if (EndsWith(r.topic, "/events")) {
    if (auto s = ParseSignal(r.payload)) return head + Describe(*s);
  }
  return head + std::to_string(r.payload.size()) + " bytes";
}

}  // namespace courier::it
