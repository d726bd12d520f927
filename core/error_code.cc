#include "error_code.h"

namespace courier::core {

std::string_view Name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kBadPayload: return "bad_payload";
    case ErrorCode::kMissingId: return "missing_id";
    case ErrorCode::kIdTooLong: return "id_too_long";
    case ErrorCode::kMissingRecipient: return "missing_recipient";
    case ErrorCode::kInvalidRecipient: return "invalid_recipient";
    case ErrorCode::kPayloadTooLarge: return "payload_too_large";
    case ErrorCode::kIdConflict: return "id_conflict";
    case ErrorCode::kUnknownOffset: return "unknown_offset";
    case ErrorCode::kBadSignal: return "bad_signal";
    case ErrorCode::kInvalidStatus: return "invalid_status";
    case ErrorCode::kInvalidEncryptionType: return "invalid_encryption_type";
    case ErrorCode::kInvalidEncrypted: return "invalid_encrypted";
    case ErrorCode::kInvalidSignature: return "invalid_signature";
    case ErrorCode::kInvalidTimestamp: return "invalid_timestamp";
    case ErrorCode::kNotAuthorized: return "not_authorized";
    case ErrorCode::kUnknownGroup: return "unknown_group";
    case ErrorCode::kNotMember: return "not_member";
    case ErrorCode::kInvalidPriority: return "invalid_priority";
    case ErrorCode::kInvalidEdit: return "invalid_edit";
    case ErrorCode::kUnknownOriginal: return "unknown_original";
    case ErrorCode::kEditWindowClosed: return "edit_window_closed";
    case ErrorCode::kAlreadyRecalled: return "already_recalled";
    case ErrorCode::kRecallHasContent: return "recall_has_content";
    case ErrorCode::kEditChangesRecipient: return "edit_changes_recipient";
    case ErrorCode::kInvalidPushRegistration: return "invalid_push_registration";
    case ErrorCode::kExpired: return "expired";
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kStoreFull: return "store_full";
    case ErrorCode::kStoreUnavailable: return "store_unavailable";
    case ErrorCode::kRateLimited: return "rate_limited";
    case ErrorCode::kQuotaExceeded: return "quota_exceeded";
    case ErrorCode::kCount: break;
  }
  return "internal";
}

bool IsTransient(ErrorCode code) {
  return code == ErrorCode::kStoreFull || code == ErrorCode::kStoreUnavailable ||
         code == ErrorCode::kRateLimited || code == ErrorCode::kQuotaExceeded;
}

}  // namespace courier::core
