#include "body_rules.h"

namespace courier::storage {

using courier::store::v1::Body;
using courier::v1::Message;

Body NewBody(const AppendRequest& r, int32_t user_offset, int32_t sender_offset, size_t receivers) {
  Body body;
  *body.mutable_message() = r.message;
  body.mutable_message()->set_user_offset(user_offset);
  body.mutable_message()->clear_signal_offset();
  body.mutable_message()->clear_signal_type();
  body.set_sender_offset(sender_offset);
  body.set_expires_ms(r.expires_ms > 0 ? r.expires_ms : 0);
  body.set_copies(static_cast<uint32_t>(1 + receivers));
  if (r.message.from().user() != r.sender) body.set_sender(r.sender);
  if (!r.group.empty()) {
    body.set_recipients(static_cast<uint32_t>(receivers));
    body.set_received_count(0);
    body.set_read_count(0);
  }
  return body;
}

const std::string& SenderOf(const Body& body) {
  return body.sender().empty() ? body.message().from().user() : body.sender();
}

Message MessageOfCopy(Message m, const CopyFlags& copy) {
  m.set_signal_offset(copy.offset);
  m.set_signal_type(copy.device ? courier::v1::SIGNAL_TYPE_DEVICE : courier::v1::SIGNAL_TYPE_RECEIVER);
  if (copy.received && !m.signal_ack_state().received()) m.mutable_signal_ack_state()->set_received(true);
  if (copy.read && !m.signal_ack_state().read()) m.mutable_signal_ack_state()->set_read(true);
  return m;
}

ReplaceRefusal CheckOriginal(const Message& orig, const AppendRequest& r) {
  if (!orig.replaces().empty()) return ReplaceRefusal::kUnknownOriginal;
  if (orig.recalled()) return ReplaceRefusal::kAlreadyRecalled;
  if (orig.to().user() != r.message.to().user() || orig.to().group() != r.message.to().group()) {
    return ReplaceRefusal::kRecipientChanged;
  }
  if (orig.server_timestamp() < r.replace_not_before_ms) return ReplaceRefusal::kWindowClosed;
  return ReplaceRefusal::kNone;
}

void ReplaceContent(Message* target, const Message& m) {
  if (m.recall()) {
    target->clear_payload();
    target->clear_encryption_type();
    target->clear_encrypted();
    target->clear_signature();
    target->set_recalled(true);
    return;
  }
  target->set_payload(m.payload());
  target->set_encryption_type(m.encryption_type());
  target->set_encrypted(m.encrypted());
  target->set_signature(m.signature());
  target->set_edited(true);
}

}  // namespace courier::storage
