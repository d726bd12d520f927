// Numeric values of the wire schema's enumerated int32 fields.
#pragma once

namespace courier::core::wire {

// Signal.type
inline constexpr int kRequest = 1;
inline constexpr int kResponse = 2;
inline constexpr int kError = 3;

// Message.signal_type / Signal.signal_type
inline constexpr int kSender = 1;
inline constexpr int kDevice = 2;
inline constexpr int kReceiver = 3;

// signal_request
inline constexpr int kPull = 1;
inline constexpr int kPush = 2;

// Message.priority
inline constexpr unsigned kPriorityLowest = 15;

// Signal.status (activity)
inline constexpr int kStatusMin = 1;  // CHATTING
inline constexpr int kStatusMax = 8;  // NOTIFICATION

}  // namespace courier::core::wire
