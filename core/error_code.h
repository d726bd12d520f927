// Error codes sent to clients in Signal.error as "code: detail".
// The names are part of the wire contract: never rename one.
#pragma once

#include <string_view>

namespace courier::core {

enum class ErrorCode {
  // permanent: the client must not retry the same message
  kBadPayload,             // the payload is not a valid protobuf of the topic's type
  kMissingId,              // Message.id is empty
  kIdTooLong,              // Message.id exceeds max_id_bytes
  kMissingRecipient,       // Message.to names no user and no group
  kInvalidRecipient,       // the recipient name cannot be a topic level
  kPayloadTooLarge,        // payload + encrypted exceed max_payload_bytes
  kIdConflict,             // the id was used before for a different message
  kUnknownOffset,          // a receipt names an offset the user's log does not have
  kBadSignal,              // a Signal that is no receipt, pull, push or activity
  kInvalidStatus,          // an activity status outside 1..8
  kInvalidEncryptionType,  // encryption_type is not one the protocol names
  kInvalidEncrypted,       // encrypted is not base64
  kInvalidSignature,       // signature is not base64
  kInvalidTimestamp,       // timestamp negative or too far in the future
  kNotAuthorized,          // the topic's user is not the publisher
  kUnknownGroup,           // Message.to.group names no group this server knows
  kNotMember,              // the sender is not a member of the group
  kInvalidPriority,        // priority above 15
  // edit and recall (Message.replaces)
  kInvalidEdit,              // replaces is too long or the message's own id, or the edit is transient
  kUnknownOriginal,          // replaces names no stored message of this sender, or an edit or recall entry
  kEditWindowClosed,         // the original is older than edit_window_s (recall: recall_window_s)
  kAlreadyRecalled,          // the original was recalled: it can be neither edited nor recalled
  kRecallHasContent,         // a recall carries payload, encrypted or signature
  kEditChangesRecipient,     // to.user / to.group differs from the original's
  kInvalidPushRegistration,  // Signal.push: app or token empty or too long
  kInternal,                 // a bug: the request could not be applied
  kExpired,                  // (to the sender) a copy expired before its receiver got it
  // transient: the client retries the same message later
  kStoreFull,         // the store reached its size limit
  kStoreUnavailable,  // the store failed (disk error); nothing was written
  kRateLimited,       // this client publishes faster than rate_limit_per_s
  kQuotaExceeded,     // a receiver has max_undelivered entries nobody received
  kCount,             // number of codes, not a code
};

std::string_view Name(ErrorCode code);
bool IsTransient(ErrorCode code);

}  // namespace courier::core
