#include "copy_message.h"

namespace courier::storage {

courier::v1::Message MessageOfCopy(const courier::store::v1::Body& body, const keys::CopyRecord& copy) {
  return MessageOfCopy(body.message(), copy);
}

courier::v1::Message MessageOfCopy(courier::v1::Message m, const keys::CopyRecord& copy) {
  return MessageOfCopy(std::move(m), CopyFlags{copy.offset, copy.device, copy.received, copy.read});
}

}  // namespace courier::storage
