#include "protocol.h"

#include <chrono>
#include <random>

#include <fmt/format.h>

namespace courier::cli {

Topics make_topics(std::string_view prefix, std::string_view user, std::string_view device) {
  const std::string base = fmt::format("{}/{}", prefix, user);
  const std::string dev = fmt::format("{}/devices/{}", base, device);
  return Topics{
      .send = base + "/send",
      .signal = base + "/signal",
      .inbox = base + "/inbox",
      .events = base + "/events",
      .device_inbox = dev + "/inbox",
      .device_events = dev + "/events",
  };
}

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string random_id() {
  std::random_device rd;
  const uint64_t hi = rd();
  const uint64_t lo = rd();
  return fmt::format("{:016x}", (hi << 32) | (lo & 0xffffffffu));
}

v1::Message make_text_message(std::string id, std::string to_user, std::string text) {
  v1::Message m;
  m.set_id(std::move(id));
  m.mutable_to()->set_user(std::move(to_user));
  m.set_payload(std::move(text));
  m.set_timestamp(now_ms());
  m.set_encryption_type("none");
  return m;
}

v1::Signal make_receipt(const v1::Message& entry, bool read) {
  v1::Signal s;
  s.set_id(entry.id());
  s.set_signal_offset(entry.signal_offset());
  s.set_user_offset(entry.user_offset());
  s.set_timestamp(now_ms());
  s.set_type(kRequest);
  s.set_signal_type(kReceiver);
  s.mutable_signal_ack_state()->set_received(true);
  s.mutable_signal_ack_state()->set_read(read);
  return s;
}

v1::Signal make_pull(int32_t after, uint32_t limit) {
  v1::Signal s;
  s.set_signal_offset(after);
  s.set_timestamp(now_ms());
  s.set_type(kRequest);
  s.set_signal_request(kPull);
  s.set_limit(limit);
  return s;
}

}  // namespace courier::cli
