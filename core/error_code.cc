#include "error_code.h"

#include <cstddef>

namespace courier::core {
namespace {

// The one list of codes: wire name and class. Transient codes are sent as a
// RESPONSE (the client retries the same message), permanent ones as an
// ERROR. docs/protocol.md's table is checked against this one
// (tests/unit/error_code_test.cc).
struct Entry {
  ErrorCode code;
  std::string_view name;
  bool transient;
};

constexpr Entry kCodes[] = {
    {ErrorCode::kBadPayload, "bad_payload", false},
    {ErrorCode::kMissingId, "missing_id", false},
    {ErrorCode::kIdTooLong, "id_too_long", false},
    {ErrorCode::kMissingRecipient, "missing_recipient", false},
    {ErrorCode::kInvalidRecipient, "invalid_recipient", false},
    {ErrorCode::kPayloadTooLarge, "payload_too_large", false},
    {ErrorCode::kIdConflict, "id_conflict", false},
    {ErrorCode::kUnknownOffset, "unknown_offset", false},
    {ErrorCode::kBadSignal, "bad_signal", false},
    {ErrorCode::kInvalidStatus, "invalid_status", false},
    {ErrorCode::kInvalidEncryptionType, "invalid_encryption_type", false},
    {ErrorCode::kInvalidEncrypted, "invalid_encrypted", false},
    {ErrorCode::kInvalidSignature, "invalid_signature", false},
    {ErrorCode::kInvalidTimestamp, "invalid_timestamp", false},
    {ErrorCode::kNotAuthorized, "not_authorized", false},
    {ErrorCode::kUnknownGroup, "unknown_group", false},
    {ErrorCode::kNotMember, "not_member", false},
    {ErrorCode::kInvalidPriority, "invalid_priority", false},
    {ErrorCode::kInvalidEdit, "invalid_edit", false},
    {ErrorCode::kUnknownOriginal, "unknown_original", false},
    {ErrorCode::kEditWindowClosed, "edit_window_closed", false},
    {ErrorCode::kAlreadyRecalled, "already_recalled", false},
    {ErrorCode::kRecallHasContent, "recall_has_content", false},
    {ErrorCode::kEditChangesRecipient, "edit_changes_recipient", false},
    {ErrorCode::kInvalidPushRegistration, "invalid_push_registration", false},
    {ErrorCode::kInternal, "internal", false},
    {ErrorCode::kExpired, "expired", false},
    {ErrorCode::kStoreFull, "store_full", true},
    {ErrorCode::kStoreUnavailable, "store_unavailable", true},
    {ErrorCode::kRateLimited, "rate_limited", true},
    {ErrorCode::kQuotaExceeded, "quota_exceeded", true},
};

constexpr bool InEnumOrder() {
  for (size_t i = 0; i < std::size(kCodes); ++i) {
    if (static_cast<size_t>(kCodes[i].code) != i) return false;
  }
  return std::size(kCodes) == static_cast<size_t>(ErrorCode::kCount);
}
static_assert(InEnumOrder(), "kCodes must list every ErrorCode once, in enum order");

const Entry& Of(ErrorCode code) {
  const auto i = static_cast<size_t>(code);
  return i < std::size(kCodes) ? kCodes[i] : kCodes[static_cast<size_t>(ErrorCode::kInternal)];
}

}  // namespace

std::string_view Name(ErrorCode code) { return Of(code).name; }

bool IsTransient(ErrorCode code) { return Of(code).transient; }

}  // namespace courier::core
