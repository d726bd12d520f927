// Wire helpers: Courier topic names, builders for the requests a client
// sends, and decoders for what the plugin publishes (courier::v1 protobuf).
// The topic names and enum numbers are written here from docs/protocol.md
// on purpose, not taken from core/: the integration tests are black-box,
// and this independent encoding is their check of the core's.
//
// Ownership: plain values only. Threads: all functions are pure and
// thread-safe. Failures: decoders return std::nullopt for bytes that do not
// parse; nothing throws.
#pragma once

#include <optional>
#include <string>

#include "messaging.pb.h"
#include "support/mqtt_client.h"

namespace courier::it {

namespace v1 = ::courier::v1;

inline constexpr const char* kPrefix = "msg";

// Numeric values of the protocol's enums (see protocol.md §1).
inline constexpr int kRequest = 1, kResponse = 2, kError = 3;  // Signal.type
inline constexpr int kSender = 1, kDevice = 2, kReceiver = 3;  // signal_type
inline constexpr int kPull = 1, kPush = 2;                     // signal_request
inline constexpr int kTyping = 4;                              // Signal.status

std::string SendTopic(const std::string& user);
std::string SignalTopic(const std::string& user);
std::string InboxTopic(const std::string& user);
std::string EventsTopic(const std::string& user);
std::string DeviceInboxTopic(const std::string& user, const std::string& device);
std::string DeviceEventsTopic(const std::string& user, const std::string& device);

// A Message as a client sends it: id, to.user, payload, timestamp.
v1::Message NewMessage(const std::string& id, const std::string& to_user, const std::string& payload);
// A delivery receipt for an entry of the sender's own log.
v1::Signal Receipt(int offset, bool received, bool read);
// A PULL request: entries after `offset` (-1: from this device's cursor).
v1::Signal PullRequest(int offset, unsigned limit);
// An activity (typing, ...) addressed to `to_user`.
v1::Signal Activity(const std::string& to_user, int status);

std::string Bytes(const google::protobuf::MessageLite& m);
std::optional<v1::Message> ParseMessage(const std::string& bytes);
std::optional<v1::Signal> ParseSignal(const std::string& bytes);

// One-line human-readable forms, for failure messages.
std::string Describe(const v1::Message& m);
std::string Describe(const v1::Signal& s);
// Decodes by topic (inbox topics carry Messages, events topics Signals).
std::string Describe(const Received& r);

}  // namespace courier::it
