#include "support/fixture.h"

namespace courier::it {

void CourierTest::SetUp() {
  broker_ = std::make_unique<Broker>(Options());
  ASSERT_TRUE(broker_->Start());
}

void CourierTest::TearDown() {
  for (auto& d : devices_) d->Disconnect();
  if (broker_ && HasFailure()) {
    std::string log = broker_->log();
    constexpr size_t kMaxLog = 20000;
    if (log.size() > kMaxLog) log = "...\n" + log.substr(log.size() - kMaxLog);
    std::fprintf(stderr, "----- broker log (port %d, dir %s) -----\n%s\n-----\n", broker_->port(),
                 broker_->data_dir().c_str(), log.c_str());
  }
  devices_.clear();
  broker_.reset();
}

CourierDevice* CourierTest::Offline(const std::string& user, const std::string& device) {
  devices_.push_back(std::make_unique<CourierDevice>(broker_->port(), user, device));
  return devices_.back().get();
}

CourierDevice* CourierTest::Online(const std::string& user, const std::string& device) {
  CourierDevice* d = Offline(user, device);
  auto r = d->Connect();
  if (!r) {
    ADD_FAILURE() << "device " << user << "/" << device << " cannot come online: " << r.message();
    return nullptr;
  }
  return d;
}

::testing::AssertionResult CourierTest::CrashAndRestart() {
  std::vector<CourierDevice*> online;
  for (auto& d : devices_) {
    if (d->client().connected()) online.push_back(d.get());
  }
  broker_->Kill9();
  for (auto& d : devices_) d->Disconnect();
  auto r = broker_->Restart();
  if (!r) return r;
  for (auto* d : online) {
    r = d->Reconnect(broker_->port());
    if (!r) return r;
  }
  return ::testing::AssertionSuccess();
}

std::optional<v1::Signal> SendAndWaitAck(CourierDevice& d, const v1::Message& m) {
  auto sent = d.Send(m);
  if (!sent) {
    ADD_FAILURE() << sent.message();
    return std::nullopt;
  }
  return d.NextEvent(SenderAckFor(m.id()));
}

namespace {

::testing::AssertionResult GotError(CourierDevice& d, const std::string& id, const std::string& code, bool transient) {
  auto s = d.NextDeviceEvent(AnyError());
  if (!s) {
    return ::testing::AssertionFailure() << "no error Signal on " << d.device_events() << " (expected " << code
                                         << " for id '" << id << "'); still queued:\n"
                                         << d.Pending();
  }
  const int want_type = transient ? kResponse : kError;
  const std::string prefix = code + ":";
  if (s->type() != want_type || s->id() != id || !s->has_error() || s->error().compare(0, prefix.size(), prefix) != 0 ||
      (transient && s->signal_offset_state())) {
    return ::testing::AssertionFailure() << "expected " << (transient ? "transient" : "permanent")
                                         << " error type=" << want_type << " id='" << id << "' error='" << prefix
                                         << " ...', got " << Describe(*s);
  }
  return ::testing::AssertionSuccess();
}

}  // namespace

::testing::AssertionResult GotPermanentError(CourierDevice& d, const std::string& id, const std::string& code) {
  return GotError(d, id, code, false);
}

::testing::AssertionResult GotTransientError(CourierDevice& d, const std::string& id, const std::string& code) {
  return GotError(d, id, code, true);
}

}  // namespace courier::it
