#include "validate.h"

#include "topics.h"
#include "wire.h"

namespace courier::core {

std::optional<Rejection> ValidateMessage(const courier::v1::Message& m, const CoreOptions& options) {
  if (m.id().empty()) return Rejection{ErrorCode::kMissingId, "id is empty"};
  if (m.id().size() > options.max_id_bytes) {
    return Rejection{ErrorCode::kIdTooLong,
                     "id has " + std::to_string(m.id().size()) + " bytes, limit " +
                         std::to_string(options.max_id_bytes)};
  }
  if (!m.to().group().empty()) {
    return Rejection{ErrorCode::kUnknownGroup, "group '" + m.to().group() + "' does not exist"};
  }
  if (m.to().user().empty()) return Rejection{ErrorCode::kMissingRecipient, "to.user is empty"};
  if (!IsValidName(m.to().user(), options.max_name_bytes)) {
    return Rejection{ErrorCode::kInvalidRecipient,
                     "to.user must be 1.." + std::to_string(options.max_name_bytes) +
                         " bytes without '/', '+', '#'"};
  }
  const size_t size = m.payload().size() + m.encrypted().size();
  if (size > options.max_payload_bytes) {
    return Rejection{ErrorCode::kPayloadTooLarge,
                     "payload has " + std::to_string(size) + " bytes, limit " +
                         std::to_string(options.max_payload_bytes)};
  }
  if (m.transient()) {
    return Rejection{ErrorCode::kUnsupported, "transient messages are not enabled"};
  }
  return std::nullopt;
}

std::variant<SignalKind, Rejection> ClassifySignal(const courier::v1::Signal& s,
                                                   const CoreOptions& options) {
  if (s.status() != 0) {
    if (s.status() < wire::kStatusMin || s.status() > wire::kStatusMax) {
      return Rejection{ErrorCode::kInvalidStatus,
                       "status " + std::to_string(s.status()) + " is not 1..8"};
    }
    if (!s.to().group().empty()) {
      return Rejection{ErrorCode::kUnknownGroup, "group '" + s.to().group() + "' does not exist"};
    }
    if (s.to().user().empty()) return Rejection{ErrorCode::kMissingRecipient, "to.user is empty"};
    if (!IsValidName(s.to().user(), options.max_name_bytes)) {
      return Rejection{ErrorCode::kInvalidRecipient, "to.user cannot be a topic level"};
    }
    return SignalKind::kActivity;
  }
  const auto& ack = s.signal_ack_state();
  if (ack.received() || ack.read()) {
    if (s.signal_offset() <= 0) {
      return Rejection{ErrorCode::kUnknownOffset, "a receipt needs signal_offset >= 1"};
    }
    return SignalKind::kReceipt;
  }
  if (s.type() == wire::kRequest && s.signal_request() == wire::kPull) {
    if (s.signal_offset() < -1) {
      return Rejection{ErrorCode::kBadSignal, "pull offset must be -1 or >= 0"};
    }
    return SignalKind::kPull;
  }
  if (s.type() == wire::kRequest && s.signal_request() == wire::kPush) return SignalKind::kPush;
  return Rejection{ErrorCode::kBadSignal,
                   "a signal needs a status, a receipt (received or read), or a PULL/PUSH request"};
}

bool SameContent(const courier::v1::Message& a, const courier::v1::Message& b) {
  return a.to().user() == b.to().user() && a.to().group() == b.to().group() &&
         a.payload() == b.payload() && a.encryption_type() == b.encryption_type() &&
         a.encrypted() == b.encrypted() && a.signature() == b.signature() && a.type() == b.type();
}

}  // namespace courier::core
