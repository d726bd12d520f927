#include "edge_delivery.h"

#include <chrono>
#include <cstdio>
#include <random>

#include "edge_relay.h"

namespace courier::plugin {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string NewEdgeId() {
  std::random_device rd;
  const uint64_t n = (uint64_t{rd()} << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(n));
  return buf;
}

EdgeDelivery::EdgeDelivery(const core::Engine& engine, EdgeOptions options, std::string edge_id, Outbox* outbox,
                           std::function<void()> kick, const MakeBus& make_bus)
    : engine_(engine),
      edge_id_(std::move(edge_id)),
      outbox_(outbox),
      kick_(std::move(kick)),
      follower_(core::EdgeFollower::Options{
          .catchup_ms = options.catchup_ms, .pull_limit = engine.options().max_pull_limit, .max_pulls = 1000}) {
  if (options.hints && make_bus) {
    bus_ = make_bus([this](std::vector<std::string> n) { Received(std::move(n)); },
                    [this](const std::string& line) { Log(line); });
  }
}

EdgeDelivery::~EdgeDelivery() { StopBus(); }

void EdgeDelivery::StopBus() {
  std::unique_ptr<storage::HintBus> bus;
  {
    std::lock_guard lock(mu_);
    bus.swap(bus_);
  }
  bus.reset();  // joins its thread, outside the lock Received() takes
}

void EdgeDelivery::Present(const std::string& user, int64_t now_ms) {
  std::lock_guard lock(mu_);
  follower_.Present(user, now_ms);
}

void EdgeDelivery::Absent(const std::string& user) {
  std::lock_guard lock(mu_);
  follower_.Absent(user);
}

std::vector<storage::PullRequest> EdgeDelivery::Due(int64_t now_ms) {
  std::lock_guard lock(mu_);
  return follower_.Due(now_ms);
}

void EdgeDelivery::Made(const std::vector<core::Publish>& publishes) {
  if (publishes.empty()) return;
  std::vector<core::EdgeHint> hints = core::HintsOf(engine_.topics(), publishes);
  std::lock_guard lock(mu_);
  core::ClaimOwn(publishes, engine_.topics(), &follower_);
  if (!bus_) return;
  for (auto& h : hints) pending_.push_back(std::move(h));
}

bool EdgeDelivery::Catch(const storage::Completion& done, int64_t now_ms, std::vector<core::Publish>* out) {
  const auto* req = std::get_if<storage::PullRequest>(&done.request);
  if (!req || !core::EdgeFollower::IsCatchUp(*req)) return false;
  const auto* res = std::get_if<storage::PullResult>(&done.result);
  std::vector<v1::Message> entries;
  {
    std::lock_guard lock(mu_);
    if (!done.status.ok() || !res) {
      follower_.Failed(*req, now_ms);
      return true;
    }
    entries = follower_.Caught(*req, *res, now_ms);
  }
  for (const auto& e : entries) out->push_back(engine_.LiveCopy(req->user, e));
  return true;
}

void EdgeDelivery::Ship() {
  std::vector<core::EdgeHint> hints;
  {
    std::lock_guard lock(mu_);
    if (!bus_ || pending_.empty()) return;
    hints.swap(pending_);
  }
  size_t dropped = 0;
  auto notifications = core::EncodeHints(edge_id_, hints, storage::HintBus::kMaxNotificationBytes, &dropped);
  std::lock_guard lock(mu_);
  dropped_ += dropped;
  if (bus_) bus_->Send(std::move(notifications));
}

void EdgeDelivery::Received(std::vector<std::string> notifications) {
  const int64_t now = NowMs();
  std::vector<core::Publish> out;
  bool malformed = false;
  bool catch_up = false;  // a followed user's catch-up pull became due
  {
    std::lock_guard lock(mu_);
    for (const auto& n : notifications) {
      auto batch = core::DecodeHints(n);
      if (!batch) {
        malformed = ++malformed_ == 1;
        continue;
      }
      if (batch->edge == edge_id_) continue;
      for (const auto& h : batch->hints) {
        catch_up = catch_up || (h.kind == core::EdgeHint::Kind::kCatchUp && follower_.Follows(h.user));
      }
      for (auto& p : core::PublishesOf(engine_.topics(), batch->hints, &follower_, now)) out.push_back(std::move(p));
    }
  }
  if (malformed) Log("hint bus: ignoring a notification on the channel that is not a Courier hint");
  const bool to_publish = !out.empty();
  if (to_publish) outbox_->Put(Outbox::Contents{.publishes = std::move(out), .failures = {}});
  // Hints for users with no device here wake nobody.
  if (kick_ && (to_publish || catch_up)) kick_();
}

void EdgeDelivery::Log(std::string line) {
  std::lock_guard lock(mu_);
  if (log_.size() < 100) log_.push_back(std::move(line));
}

std::vector<std::string> EdgeDelivery::TakeLog() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  out.swap(log_);
  return out;
}

}  // namespace courier::plugin
