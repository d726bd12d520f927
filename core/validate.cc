#include "validate.h"

#include "edit.h"

#include "topics.h"
#include "wire.h"

namespace courier::core {

namespace {

// A recipient is a user or a group, not both.
std::optional<Rejection> CheckRecipient(const courier::v1::Identity& to, const CoreOptions& options) {
  if (to.user().empty() && to.group().empty()) {
    return Rejection{ErrorCode::kMissingRecipient, "to.user and to.group are empty"};
  }
  if (!to.user().empty() && !to.group().empty()) {
    return Rejection{ErrorCode::kInvalidRecipient, "set to.user or to.group, not both"};
  }
  if (!to.group().empty() && !IsValidName(to.group(), options.max_name_bytes)) {
    return Rejection{ErrorCode::kInvalidRecipient,
                     "to.group must be 1.." + std::to_string(options.max_name_bytes) + " bytes without '/', '+', '#'"};
  }
  return std::nullopt;
}

}  // namespace

bool IsBase64(std::string_view s) {
  if (s.size() % 4 != 0) return false;
  size_t pad = 0;
  while (pad < 2 && pad < s.size() && s[s.size() - 1 - pad] == '=') ++pad;
  for (size_t i = 0; i < s.size() - pad; ++i) {
    const char c = s[i];
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    if (!ok) return false;
  }
  return true;
}

std::optional<Rejection> ValidateMessage(const courier::v1::Message& m, const CoreOptions& options, int64_t now_ms) {
  if (m.id().empty()) return Rejection{ErrorCode::kMissingId, "id is empty"};
  if (m.id().size() > options.max_id_bytes) {
    return Rejection{ErrorCode::kIdTooLong, "id has " + std::to_string(m.id().size()) + " bytes, limit " +
                                                std::to_string(options.max_id_bytes)};
  }
  if (auto bad = CheckRecipient(m.to(), options)) return bad;
  if (m.to().group().empty() && !IsValidName(m.to().user(), options.max_name_bytes)) {
    return Rejection{ErrorCode::kInvalidRecipient,
                     "to.user must be 1.." + std::to_string(options.max_name_bytes) + " bytes without '/', '+', '#'"};
  }
  const size_t size = m.payload().size() + m.encrypted().size();
  if (size > options.max_payload_bytes) {
    return Rejection{ErrorCode::kPayloadTooLarge, "payload has " + std::to_string(size) + " bytes, limit " +
                                                      std::to_string(options.max_payload_bytes)};
  }
  const std::string& enc = m.encryption_type();
  if (!(enc.empty() || enc == "none" || enc == "AES256" || enc == "E2E" || enc == "CUSTOM")) {
    return Rejection{ErrorCode::kInvalidEncryptionType, "encryption_type must be none, AES256, E2E or CUSTOM"};
  }
  if (!IsBase64(m.encrypted())) { return Rejection{ErrorCode::kInvalidEncrypted, "encrypted must be padded base64"}; }
  if (!IsBase64(m.signature())) { return Rejection{ErrorCode::kInvalidSignature, "signature must be padded base64"}; }
  const int64_t max_ahead_ms = int64_t{options.max_clock_skew_s} * 1000;
  if (m.timestamp() < 0 || (m.timestamp() > now_ms && m.timestamp() - now_ms > max_ahead_ms)) {
    return Rejection{
        ErrorCode::kInvalidTimestamp,
        "timestamp must be epoch ms, at most " + std::to_string(options.max_clock_skew_s) + " s ahead of the server"};
  }
  if (m.priority() > wire::kPriorityLowest) {
    return Rejection{ErrorCode::kInvalidPriority, "priority must be 0 (highest) to 15 (lowest)"};
  }
  return ValidateReplace(m, options);
}

std::variant<SignalKind, Rejection> ClassifySignal(const courier::v1::Signal& s, const CoreOptions& options) {
  if (s.type() < 0 || s.type() > v1::SIGNAL_KIND_ERROR) {
    return Rejection{ErrorCode::kBadSignal, "type must be 1, 2 or 3"};
  }
  if (s.signal_request() < 0 || s.signal_request() > v1::SIGNAL_REQUEST_PUSH) {
    return Rejection{ErrorCode::kBadSignal, "signal_request must be 1 (PULL) or 2 (PUSH)"};
  }
  if (s.status() != 0) {
    if (s.status() < v1::ACTIVITY_STATUS_CHATTING || s.status() > v1::ACTIVITY_STATUS_NOTIFICATION) {
      return Rejection{ErrorCode::kInvalidStatus, "status " + std::to_string(s.status()) + " is not 1..8"};
    }
    if (auto bad = CheckRecipient(s.to(), options)) return *bad;
    if (s.to().group().empty() && !IsValidName(s.to().user(), options.max_name_bytes)) {
      return Rejection{ErrorCode::kInvalidRecipient, "to.user cannot be a topic level"};
    }
    return SignalKind::kActivity;
  }
  if (s.has_push()) {
    const auto& p = s.push();
    if (p.token().size() > kMaxPushTokenBytes) {
      return Rejection{ErrorCode::kInvalidPushRegistration,
                       "token is longer than " + std::to_string(kMaxPushTokenBytes) + " bytes"};
    }
    if (!p.token().empty() && (p.app().empty() || p.app().size() > kMaxPushAppBytes)) {
      return Rejection{ErrorCode::kInvalidPushRegistration,
                       "app must be 1.." + std::to_string(kMaxPushAppBytes) + " bytes"};
    }
    return SignalKind::kPushRegistration;
  }
  const auto& ack = s.signal_ack_state();
  if (ack.received() || ack.read()) {
    if (s.signal_offset() <= 0) { return Rejection{ErrorCode::kUnknownOffset, "a receipt needs signal_offset >= 1"}; }
    return SignalKind::kReceipt;
  }
  if (s.type() == v1::SIGNAL_KIND_REQUEST && s.signal_request() == v1::SIGNAL_REQUEST_PULL) {
    if (s.signal_offset() < -1) { return Rejection{ErrorCode::kBadSignal, "pull offset must be -1 or >= 0"}; }
    return SignalKind::kPull;
  }
  if (s.type() == v1::SIGNAL_KIND_REQUEST && s.signal_request() == v1::SIGNAL_REQUEST_PUSH) return SignalKind::kPush;
  return Rejection{ErrorCode::kBadSignal,
                   "a signal needs a status, a receipt (received or read), or a PULL/PUSH request"};
}

bool SameContent(const courier::v1::Message& a, const courier::v1::Message& b) {
  const bool same_kind = a.to().user() == b.to().user() && a.to().group() == b.to().group() &&
                         a.replaces() == b.replaces() && a.recall() == b.recall();
  // A later edit or a recall replaced the stored content: a retry of the
  // message as first sent cannot be compared with it any more.
  if (a.edited() || a.recalled()) return same_kind;
  return same_kind && a.payload() == b.payload() && a.encryption_type() == b.encryption_type() &&
         a.encrypted() == b.encrypted() && a.signature() == b.signature() && a.type() == b.type();
}

}  // namespace courier::core
