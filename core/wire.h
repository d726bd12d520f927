// Limits of the wire schema's int32 fields that no enum names. The
// enumerated ones use the enums of proto/messaging.proto (v1::SIGNAL_KIND_*,
// v1::SIGNAL_TYPE_*, v1::SIGNAL_REQUEST_*, v1::ACTIVITY_STATUS_*).
#pragma once

namespace courier::core::wire {

// Message.priority
inline constexpr unsigned kPriorityLowest = 15;

}  // namespace courier::core::wire
