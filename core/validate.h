// Checks of inbound Messages and Signals. Pure.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "error_code.h"
#include "messaging.pb.h"
#include "core_options.h"

namespace courier::core {

struct Rejection {
  ErrorCode code;
  std::string detail;
};

// nullopt when `m` may be stored as a message from a user.
// `now_ms` is the server's clock, for the timestamp check.
std::optional<Rejection> ValidateMessage(const courier::v1::Message& m, const CoreOptions& options, int64_t now_ms);

// RFC 4648 base64, standard alphabet, padded to a multiple of 4. Empty is valid.
bool IsBase64(std::string_view s);

// What an inbound Signal asks for.
enum class SignalKind {
  kActivity,          // status set: forward to the recipient, store nothing
  kReceipt,           // ack state received or read on an offset of the sender's own log
  kPull,              // REQUEST with signal_request PULL
  kPush,              // REQUEST with signal_request PUSH: answered with the log head
  kPushRegistration,  // REQUEST with `push` set: register (or, empty token, unregister) this device
};

// Longest PushRegistration.app and .token, in bytes.
inline constexpr size_t kMaxPushAppBytes = 128;
inline constexpr size_t kMaxPushTokenBytes = 4096;

std::variant<SignalKind, Rejection> ClassifySignal(const courier::v1::Signal& s, const CoreOptions& options);

// True when two messages with the same id carry the same message: same
// recipient, content and replaces/recall. Timestamps, expiry and priority
// may differ on retry. `a` is the stored one: once it was edited or
// recalled, only recipient and replaces/recall are compared.
bool SameContent(const courier::v1::Message& a, const courier::v1::Message& b);

}  // namespace courier::core
