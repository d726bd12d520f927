#include "replies.h"

#include "wire.h"

namespace courier::core {

using courier::v1::Message;
using courier::v1::Signal;

Signal SenderAck(const Message& device_copy) {
  Signal s;
  s.set_id(device_copy.id());
  s.set_signal_offset(device_copy.signal_offset());
  s.set_user_offset(device_copy.user_offset());
  s.set_timestamp(device_copy.server_timestamp());
  *s.mutable_from() = device_copy.from();
  *s.mutable_to() = device_copy.to();
  s.set_type(v1::SIGNAL_KIND_RESPONSE);
  s.set_signal_type(v1::SIGNAL_TYPE_SENDER);
  s.set_signal_offset_state(true);
  *s.mutable_signal_ack_state() = device_copy.signal_ack_state();
  s.mutable_signal_ack_state()->set_send(true);
  return s;
}

Signal ReceiptNotice(const Message& copy, int signal_type, const courier::v1::Identity& reader) {
  Signal s;
  s.set_id(copy.id());
  s.set_signal_offset(copy.signal_offset());
  s.set_user_offset(copy.user_offset());
  *s.mutable_from() = reader;
  *s.mutable_to() = copy.from();
  s.set_type(v1::SIGNAL_KIND_RESPONSE);
  s.set_signal_type(signal_type);
  s.set_signal_offset_state(true);
  *s.mutable_signal_ack_state() = copy.signal_ack_state();
  return s;
}

void SetGroupCounts(Signal* s, uint32_t recipients, uint32_t received, uint32_t read) {
  s->set_recipients(recipients);
  s->set_received_count(received);
  s->set_read_count(read);
}

Signal ExpiredNotice(const Message& receiver_copy, std::string_view receiver, int32_t sender_offset) {
  Signal s;
  s.set_id(receiver_copy.id());
  s.set_signal_offset(sender_offset);
  s.set_user_offset(receiver_copy.user_offset());
  s.mutable_from()->set_user(std::string(receiver));
  *s.mutable_to() = receiver_copy.from();
  s.set_type(v1::SIGNAL_KIND_ERROR);
  s.set_signal_type(v1::SIGNAL_TYPE_RECEIVER);
  s.set_error(std::string(Name(ErrorCode::kExpired)) + ": " + std::string(receiver) + " did not receive it within " +
              std::to_string(receiver_copy.expiry()) + " s");
  *s.mutable_signal_ack_state() = receiver_copy.signal_ack_state();
  return s;
}

Signal TransientAck(const Message& m) {
  Signal s;
  s.set_id(m.id());
  s.set_timestamp(m.server_timestamp());
  *s.mutable_from() = m.from();
  *s.mutable_to() = m.to();
  s.set_type(v1::SIGNAL_KIND_RESPONSE);
  s.set_signal_type(v1::SIGNAL_TYPE_SENDER);
  s.set_signal_offset_state(true);
  s.mutable_signal_ack_state()->set_send(true);
  return s;
}

Signal PushRegistered(std::string_view id, const courier::v1::PushRegistration& reg) {
  Signal s;
  s.set_id(std::string(id));
  s.set_type(v1::SIGNAL_KIND_RESPONSE);
  s.set_signal_offset_state(true);
  *s.mutable_push() = reg;
  return s;
}

Signal PullResponse(std::string_view id, int32_t head, uint32_t count, int32_t reached) {
  Signal s;
  s.set_id(std::string(id));
  s.set_signal_offset(head);
  s.set_user_offset(reached);
  s.set_type(v1::SIGNAL_KIND_RESPONSE);
  s.set_signal_request(v1::SIGNAL_REQUEST_PULL);
  s.set_limit(count);
  s.set_signal_offset_state(true);
  return s;
}

Signal ErrorSignal(std::string_view id, ErrorCode code, std::string_view detail) {
  Signal s;
  s.set_id(std::string(id));
  std::string text(Name(code));
  if (!detail.empty()) text.append(": ").append(detail);
  s.set_error(std::move(text));
  s.set_type(IsTransient(code) ? v1::SIGNAL_KIND_RESPONSE : v1::SIGNAL_KIND_ERROR);
  s.set_signal_offset_state(false);
  return s;
}

}  // namespace courier::core
