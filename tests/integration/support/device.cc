#include "support/device.h"

namespace courier::it {

CourierDevice::CourierDevice(int port, std::string user, std::string device)
    : port_(port), user_(std::move(user)), device_(std::move(device)) {}

::testing::AssertionResult CourierDevice::Connect(bool clean_session) {
  auto r = password_.empty() || !clean_session
               ? client_.Connect(port_, user_, device_, clean_session)
               : client_.Connect(port_, Login{.username = user_, .password = password_, .client_id = device_});
  if (!r) return r;
  for (const auto& topic : {inbox(), events(), device_inbox(), device_events()}) {
    r = client_.Subscribe(topic, 1);
    if (!r) return r;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult CourierDevice::Reconnect(std::optional<int> port) {
  if (port) port_ = *port;
  return client_.Reconnect(port_);
}

::testing::AssertionResult CourierDevice::Send(const v1::Message& m) { return SendRaw(Bytes(m)); }
::testing::AssertionResult CourierDevice::Signal(const v1::Signal& s) { return SignalRaw(Bytes(s)); }
::testing::AssertionResult CourierDevice::SendRaw(const std::string& bytes) {
  return client_.Publish(SendTopic(user_), bytes, 1);
}
::testing::AssertionResult CourierDevice::SignalRaw(const std::string& bytes) {
  return client_.Publish(SignalTopic(user_), bytes, 1);
}

std::optional<v1::Message> CourierDevice::NextMessageOn(const std::string& topic, const Match<v1::Message>& match,
                                                        std::chrono::milliseconds timeout) {
  auto r = client_.WaitFor(
      [&](const Received& rec) {
        if (rec.topic != topic) return false;
        auto m = ParseMessage(rec.payload);
        return m && (!match || match(*m));
      },
      timeout);
  if (!r) return std::nullopt;
  return ParseMessage(r->payload);
}

std::optional<v1::Signal> CourierDevice::NextSignalOn(const std::string& topic, const Match<v1::Signal>& match,
                                                      std::chrono::milliseconds timeout) {
  auto r = client_.WaitFor(
      [&](const Received& rec) {
        if (rec.topic != topic) return false;
        auto s = ParseSignal(rec.payload);
        return s && (!match || match(*s));
      },
      timeout);
  if (!r) return std::nullopt;
  return ParseSignal(r->payload);
}

std::optional<v1::Message> CourierDevice::NextInbox(const Match<v1::Message>& match,
                                                    std::chrono::milliseconds timeout) {
  return NextMessageOn(inbox(), match, timeout);
}
std::optional<v1::Message> CourierDevice::NextDeviceInbox(const Match<v1::Message>& match,
                                                          std::chrono::milliseconds timeout) {
  return NextMessageOn(device_inbox(), match, timeout);
}
std::optional<v1::Signal> CourierDevice::NextEvent(const Match<v1::Signal>& match, std::chrono::milliseconds timeout) {
  return NextSignalOn(events(), match, timeout);
}
std::optional<v1::Signal> CourierDevice::NextDeviceEvent(const Match<v1::Signal>& match,
                                                         std::chrono::milliseconds timeout) {
  return NextSignalOn(device_events(), match, timeout);
}

std::vector<v1::Message> CourierDevice::DeviceInboxBatch(size_t n, std::chrono::milliseconds timeout) {
  std::vector<v1::Message> out;
  for (const auto& r : client_.WaitForCount(device_inbox(), n, timeout)) {
    auto m = ParseMessage(r.payload);
    out.push_back(m ? *m : v1::Message());
  }
  return out;
}

namespace {
template <typename T, typename Parse>
std::vector<T> DecodeAll(const std::vector<Received>& in, Parse parse) {
  std::vector<T> out;
  for (const auto& r : in) {
    auto v = parse(r.payload);
    out.push_back(v ? *v : T());
  }
  return out;
}
}  // namespace

std::vector<v1::Message> CourierDevice::DrainInbox() {
  return DecodeAll<v1::Message>(client_.DrainTopic(inbox()), ParseMessage);
}
std::vector<v1::Message> CourierDevice::DrainDeviceInbox() {
  return DecodeAll<v1::Message>(client_.DrainTopic(device_inbox()), ParseMessage);
}
std::vector<v1::Signal> CourierDevice::DrainEvents() {
  return DecodeAll<v1::Signal>(client_.DrainTopic(events()), ParseSignal);
}
std::vector<v1::Signal> CourierDevice::DrainDeviceEvents() {
  return DecodeAll<v1::Signal>(client_.DrainTopic(device_events()), ParseSignal);
}

std::string CourierDevice::Pending() const {
  std::string out;
  for (const auto& r : client_.Snapshot()) out += "  " + Describe(r) + "\n";
  return out.empty() ? "  (nothing)\n" : out;
}

}  // namespace courier::it
