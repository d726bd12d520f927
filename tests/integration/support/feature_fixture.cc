#include "support/feature_fixture.h"

#include <thread>

namespace courier::it {

BrokerOptions FeatureTest::Options() const {
  BrokerOptions o;
  o.plugin_opts.emplace_back("admin_users", AdminUsers());
  for (auto& kv : ExtraOptions()) o.plugin_opts.push_back(kv);
  return o;
}

void FeatureTest::TearDown() {
  DropAdmin();
  CourierTest::TearDown();
}

AdminClient* FeatureTest::Admin() {
  if (!admin_) {
    auto a = std::make_unique<AdminClient>(broker().port(), "admin", "admin-cli");
    auto r = a->Connect();
    if (!r) {
      ADD_FAILURE() << "admin client cannot connect: " << r.message();
      return nullptr;
    }
    admin_ = std::move(a);
  }
  return admin_.get();
}

void FeatureTest::DropAdmin() {
  if (admin_) admin_->Disconnect();
  admin_.reset();
}

FeatureTest::Pulled FeatureTest::Pull(CourierDevice& d, int offset, unsigned limit) {
  Pulled r;
  auto sent = d.Signal(PullRequest(offset, limit));
  if (!sent) {
    ADD_FAILURE() << sent.message();
    return r;
  }
  r.response = d.NextDeviceEvent(PullResponse());
  if (!r.response)
    ADD_FAILURE() << "no PULL response for " << d.user() << "/" << d.device() << "; queued:\n" << d.Pending();
  // The entries precede the RESPONSE on the same connection: all queued now.
  r.entries = d.DrainDeviceInbox();
  return r;
}

bool FeatureTest::Eventually(const std::function<bool()>& check, std::chrono::milliseconds timeout,
                             std::chrono::milliseconds step) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (check()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

std::vector<int> FeatureTest::Offsets(const std::vector<v1::Message>& ms) {
  std::vector<int> out;
  for (const auto& m : ms) out.push_back(m.signal_offset());
  return out;
}

std::vector<int> FeatureTest::UserOffsets(const std::vector<v1::Message>& ms) {
  std::vector<int> out;
  for (const auto& m : ms) out.push_back(m.user_offset());
  return out;
}

std::vector<std::string> FeatureTest::Ids(const std::vector<v1::Message>& ms) {
  std::vector<std::string> out;
  for (const auto& m : ms) out.push_back(m.id());
  return out;
}

v1::Message GroupMessage(const std::string& id, const std::string& group, const std::string& payload) {
  v1::Message m = NewMessage(id, "", payload);
  m.mutable_to()->clear_user();
  m.mutable_to()->set_group(group);
  return m;
}

v1::Signal GroupActivity(const std::string& group, int status) {
  v1::Signal s;
  s.set_status(status);
  s.mutable_to()->set_group(group);
  return s;
}

v1::Signal ReceiptFor(const std::string& id, int offset, bool received, bool read) {
  v1::Signal s = Receipt(offset, received, read);
  s.set_id(id);
  return s;
}

}  // namespace courier::it
