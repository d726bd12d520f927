// Wire-level vocabulary of the Courier protocol as the CLI uses it: topic
// names, enum values (docs/protocol.md, sections 1 and 2), and builders
// for the few payloads a client publishes. Pure functions, no I/O, no state;
// safe to call from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "messaging.pb.h"

namespace courier::cli {

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

// The six topics of one (user, device) under prefix P.
struct Topics {
  std::string send;           // P/{user}/send
  std::string signal;         // P/{user}/signal
  std::string inbox;          // P/{user}/inbox
  std::string events;         // P/{user}/events
  std::string device_inbox;   // P/{user}/devices/{device}/inbox
  std::string device_events;  // P/{user}/devices/{device}/events
};

Topics make_topics(std::string_view prefix, std::string_view user, std::string_view device);

// Milliseconds since the Unix epoch, from the system clock.
int64_t now_ms();

// 16 lower-case hex characters drawn from std::random_device.
std::string random_id();

// A chat message from the connected user to `to_user`: the fields a client
// fills (id, to, payload, timestamp, encryption_type "none").
v1::Message make_text_message(std::string id, std::string to_user, std::string text);

// A delivery receipt for entry `offset` of the connected user's log.
// `read` also sets `received` (read implies received).
v1::Signal make_receipt(const v1::Message& entry, bool read);

// A PULL request for up to `limit` entries after `after` (-1: after this
// device's stored cursor).
v1::Signal make_pull(int32_t after, uint32_t limit);

}  // namespace courier::cli
