#include "support/traffic.h"

#include <algorithm>

namespace courier::it {
namespace {

constexpr uint32_t kPullLimit = 1000;
// A pull whose response has not come within this is sent again (the
// broker may have been killed before answering).
constexpr auto kPullTimeout = std::chrono::seconds(3);
// At most one gap-filling pull per this interval.
constexpr auto kGapPullInterval = std::chrono::milliseconds(100);

}  // namespace

int64_t EpochMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---- LoadSender -------------------------------------------------------------

LoadSender::LoadSender(std::string user, std::string device, std::vector<std::string> receivers, size_t window,
                       size_t payload_bytes, std::chrono::milliseconds retry_after)
    : device_(user, device, {EventsTopic(user), DeviceEventsTopic(user, device)}),
      receivers_(std::move(receivers)),
      window_(window),
      payload_bytes_(payload_bytes),
      retry_after_(retry_after) {}

void LoadSender::Publish(Record& r) {
  if (!device_.Publish(SendTopic(user()), Bytes(r.message))) return;
  if (r.sends > 0) ++retries_;
  ++r.sends;
  ++sends_;
  r.send_ms.push_back(EpochMs());
  r.last_send = Clock::now();
}

void LoadSender::Handle(const Received& in) {
  if (in.topic == EventsTopic(user())) {
    auto s = ParseSignal(in.payload);
    if (!s) {
      problems_.push_back("unparsable Signal on " + in.topic);
      return;
    }
    if (s->type() != kResponse || s->signal_type() != kSender) return;  // receipt notices
    auto it = records_.find(s->id());
    if (it == records_.end()) {
      problems_.push_back("SENDER ack for an id never sent: " + Describe(*s));
      return;
    }
    Record& r = it->second;
    if (!s->signal_offset_state() || s->signal_offset() <= 0 || s->user_offset() <= 0) {
      problems_.push_back("SENDER ack without offsets: " + Describe(*s));
      return;
    }
    if (!r.acked) {
      r.acked = true;
      r.ack = *s;
      in_flight_.erase(r.message.id());
      ++acked_;
    } else {
      ++r.repeat_acks;
      ++repeat_acks_;
      if (s->signal_offset() != r.ack.signal_offset() || s->user_offset() != r.ack.user_offset()) {
        problems_.push_back("repeated SENDER ack changed offsets: first " + Describe(r.ack) + ", then " + Describe(*s));
      }
    }
    return;
  }
  if (in.topic == DeviceEventsTopic(user(), device_.device())) {
    auto s = ParseSignal(in.payload);
    if (!s || !s->has_error()) return;
    auto it = records_.find(s->id());
    if (s->type() == kResponse && !s->signal_offset_state()) {
      ++transient_errors_;
      if (it != records_.end()) ++it->second.transient_errors;  // retried after retry_after
      return;
    }
    problems_.push_back("permanent error: " + Describe(*s));
    if (it != records_.end()) in_flight_.erase(it->first);  // must not be retried
  }
}

void LoadSender::Step(int port) {
  device_.KeepConnected(port);
  for (const auto& in : device_.Take()) Handle(in);
  if (!device_.ready()) return;
  const bool reconnected = device_.TakeJustReady();
  const auto now = Clock::now();
  for (const auto& id : in_flight_) {
    Record& r = records_.at(id);
    if (reconnected || r.sends == 0 || now - r.last_send >= retry_after_) Publish(r);
  }
  while (generating_ && in_flight_.size() < window_ && (max_messages_ == 0 || next_seq_ <= max_messages_)) {
    const std::string id = user() + "-" + std::to_string(next_seq_);
    const std::string& to = receivers_[(next_seq_ - 1) % receivers_.size()];
    ++next_seq_;
    std::string payload = "payload of " + id + " ";
    while (payload.size() < payload_bytes_) payload += static_cast<char>('a' + payload.size() % 26);
    payload.resize(std::max(payload_bytes_, size_t{1}));
    Record r;
    r.message = NewMessage(id, to, payload);
    r.receiver = to;
    auto [it, inserted] = records_.emplace(id, std::move(r));
    in_flight_.insert(id);
    Publish(it->second);
  }
}

// ---- LoadReceiver -----------------------------------------------------------

LoadReceiver::LoadReceiver(std::string user, std::string device)
    : device_(user, device, {InboxTopic(user), DeviceInboxTopic(user, device), DeviceEventsTopic(user, device)}) {}

void LoadReceiver::Hold(const v1::Message& m, bool pulled) {
  const int32_t offset = m.signal_offset();
  if (offset <= 0 || m.signal_type() != kReceiver || m.to().user() != user()) {
    problems_.push_back("unexpected entry for " + user() + ": " + Describe(m));
    return;
  }
  auto [it, inserted] = held_.emplace(offset, m);
  if (!inserted) {
    ++redelivered_;
    if (it->second.id() != m.id() || it->second.from().user() != m.from().user()) {
      problems_.push_back("offset " + std::to_string(offset) + " of " + user() + " delivered as " +
                          Describe(it->second) + " and as " + Describe(m));
    }
    return;
  }
  ++(pulled ? pulled_ : live_);
  while (held_.count(contiguous_ + 1) != 0) ++contiguous_;
}

void LoadReceiver::RequestPull() {
  if (pull_out_ || !device_.ready()) return;
  v1::Signal s = PullRequest(contiguous_, kPullLimit);
  s.set_id("pull-" + std::to_string(pulls_ + 1));
  if (!device_.Publish(SignalTopic(user()), Bytes(s))) return;
  ++pulls_;
  pull_out_ = true;
  pull_sent_ = Clock::now();
}

void LoadReceiver::Step(int port) {
  device_.KeepConnected(port);
  const std::string inbox = InboxTopic(user());
  const std::string device_inbox = DeviceInboxTopic(user(), device_.device());
  const std::string device_events = DeviceEventsTopic(user(), device_.device());
  for (const auto& in : device_.Take()) {
    if (in.topic == inbox || in.topic == device_inbox) {
      auto m = ParseMessage(in.payload);
      if (!m) {
        problems_.push_back("unparsable Message on " + in.topic);
        continue;
      }
      Hold(*m, in.topic == device_inbox);
    } else if (in.topic == device_events) {
      auto s = ParseSignal(in.payload);
      if (!s) continue;
      if (s->type() == kResponse && s->signal_request() == kPull && !s->has_error()) {
        head_ = std::max(head_, s->signal_offset());
        pull_out_ = false;
      } else if (s->has_error()) {
        ++pull_errors_;
        if (s->type() == kError) problems_.push_back("permanent error: " + Describe(*s));
        pull_out_ = false;  // transient: pull again
      }
    }
  }
  if (!device_.ready()) {
    pull_out_ = false;  // its answer, if any, went with the connection
    return;
  }
  const auto now = Clock::now();
  if (device_.TakeJustReady()) {
    pull_out_ = false;
    RequestPull();
  }
  if (pull_out_ && now - pull_sent_ > kPullTimeout) {
    pull_out_ = false;
    RequestPull();
  }
  const int32_t highest = held_.empty() ? 0 : held_.rbegin()->first;
  if (!pull_out_ && (contiguous_ < head_ || contiguous_ < highest) && now - pull_sent_ >= kGapPullInterval) {
    RequestPull();
  }
}

}  // namespace courier::it
