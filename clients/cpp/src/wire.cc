#include "wire.h"

namespace courier::client::detail {

Topics MakeTopics(const std::string& prefix, const std::string& user, const std::string& device) {
  const std::string base = prefix + "/" + user;
  const std::string dev = base + "/devices/" + device;
  return Topics{base + "/send", base + "/signal", base + "/inbox", base + "/events", dev + "/inbox", dev + "/events"};
}

bool ValidName(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c == '/' || c == '+' || c == '#' || c == '\0') return false;
  }
  return true;
}

Kind KindOf(int signal_type) {
  switch (signal_type) {
    case v1::SIGNAL_TYPE_SENDER: return Kind::kSender;
    case v1::SIGNAL_TYPE_DEVICE: return Kind::kDevice;
    case v1::SIGNAL_TYPE_RECEIVER: return Kind::kReceiver;
    default: return Kind::kUnknown;
  }
}

AckState FromProto(const v1::SignalAckState& a) {
  // Read implies received, whatever the sender of the Signal set.
  return AckState{.sent = a.send(), .received = a.received() || a.read(), .read = a.read()};
}

Identity FromProto(const v1::Identity& i) {
  return Identity{.user = i.user(), .device = i.device(), .group = i.group()};
}

Message FromProto(const v1::Message& m, bool pulled) {
  Message out;
  out.id = m.id();
  out.offset = m.signal_offset();
  out.user_offset = m.user_offset();
  out.kind = KindOf(m.signal_type());
  out.from = FromProto(m.from());
  out.to = FromProto(m.to());
  out.timestamp = m.timestamp();
  out.server_timestamp = m.server_timestamp();
  out.payload = m.payload();
  out.encryption_type = m.encryption_type();
  out.encrypted = m.encrypted();
  out.signature = m.signature();
  out.type = m.type();
  out.expiry = m.expiry();
  out.priority = m.priority();
  out.transient = m.transient();
  out.replaces = m.replaces();
  out.recall = m.recall();
  out.edited = m.edited();
  out.recalled = m.recalled();
  out.state = FromProto(m.signal_ack_state());
  out.pulled = pulled;
  return out;
}

Receipt ReceiptOf(const v1::Signal& s) {
  return Receipt{.kind = KindOf(s.signal_type()),
                 .id = s.id(),
                 .offset = s.signal_offset(),
                 .user_offset = s.user_offset(),
                 .state = FromProto(s.signal_ack_state()),
                 .from = FromProto(s.from()),
                 .to = FromProto(s.to()),
                 .timestamp = s.timestamp(),
                 .recipients = s.recipients(),
                 .received_count = s.received_count(),
                 .read_count = s.read_count()};
}

Activity ActivityOf(const v1::Signal& s) {
  return Activity{.from = FromProto(s.from()),
                  .to = FromProto(s.to()),
                  .status = static_cast<Status>(s.status()),
                  .timestamp = s.timestamp()};
}

}  // namespace courier::client::detail
