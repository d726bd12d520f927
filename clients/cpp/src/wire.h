// The wire vocabulary of docs/protocol.md as the client uses it: topic
// names, Signal field values, and conversions from the protobuf messages to
// the public structs of courier/client.h. Pure functions; no I/O.
#pragma once

#include <string>

#include "courier/client.h"
#include "messaging.pb.h"

namespace courier::client::detail {

namespace v1 = ::courier::v1;

// The topics of one device of one user.
struct Topics {
  std::string send, signal, inbox, events, device_inbox, device_events;
};
Topics MakeTopics(const std::string& prefix, const std::string& user, const std::string& device);

// A user, device or group name usable as one topic level.
bool ValidName(const std::string& s);

Kind KindOf(int signal_type);
AckState FromProto(const v1::SignalAckState& a);
Identity FromProto(const v1::Identity& i);
Message FromProto(const v1::Message& m, bool pulled);
Receipt ReceiptOf(const v1::Signal& s);
Activity ActivityOf(const v1::Signal& s);

}  // namespace courier::client::detail
