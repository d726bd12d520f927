#include "copy_message.h"

namespace courier::storage {

namespace {
constexpr int kSignalTypeDevice = 2;
constexpr int kSignalTypeReceiver = 3;
}  // namespace

const std::string& SenderOf(const courier::store::v1::Body& body) {
  return body.sender().empty() ? body.message().from().user() : body.sender();
}

courier::v1::Message MessageOfCopy(const courier::store::v1::Body& body, const keys::CopyRecord& copy) {
  return MessageOfCopy(body.message(), copy);
}

courier::v1::Message MessageOfCopy(courier::v1::Message m, const keys::CopyRecord& copy) {
  m.set_signal_offset(copy.offset);
  m.set_signal_type(copy.device ? kSignalTypeDevice : kSignalTypeReceiver);
  if (copy.received && !m.signal_ack_state().received()) m.mutable_signal_ack_state()->set_received(true);
  if (copy.read && !m.signal_ack_state().read()) m.mutable_signal_ack_state()->set_read(true);
  return m;
}

}  // namespace courier::storage
