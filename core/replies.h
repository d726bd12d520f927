// Builders of the Signals the server sends. Pure.
#pragma once

#include <string>
#include <string_view>

#include "error_code.h"
#include "messaging.pb.h"

namespace courier::core {

// SENDER ack for a stored message, from the sender's own (DEVICE) copy.
courier::v1::Signal SenderAck(const courier::v1::Message& device_copy);

// A receipt as the sender (signal_type RECEIVER) or the reader's other
// devices (signal_type DEVICE) see it. `copy` is the copy in the log of the
// user the Signal goes to; `reader` is who sent the receipt.
courier::v1::Signal ReceiptNotice(const courier::v1::Message& copy, int signal_type,
                                  const courier::v1::Identity& reader);

// Adds group receipt counts to a RECEIVER notice for the sender of a group message.
void SetGroupCounts(courier::v1::Signal* s, uint32_t recipients, uint32_t received, uint32_t read);

// To the sender: its message's copy for `receiver` expired unreceived.
// `receiver_copy` is that copy; `sender_offset` the sender's own offset.
courier::v1::Signal ExpiredNotice(const courier::v1::Message& receiver_copy, std::string_view receiver,
                                  int32_t sender_offset);

// To the sender of a transient message: relayed, not stored, no offsets.
courier::v1::Signal TransientAck(const courier::v1::Message& m);

// The RESPONSE that ends a PULL: the log's head, how many entries were sent,
// and the highest offset the pull covered (sent or skipped as expired).
// The answer to a push registration: RESPONSE with the registration echoed
// (an empty token: unregistered).
courier::v1::Signal PushRegistered(std::string_view id, const courier::v1::PushRegistration& reg);

courier::v1::Signal PullResponse(std::string_view id, int32_t head, uint32_t count, int32_t reached);

// An error about message or request `id`: type ERROR for permanent codes,
// RESPONSE with signal_offset_state false for transient ones.
courier::v1::Signal ErrorSignal(std::string_view id, ErrorCode code, std::string_view detail);

}  // namespace courier::core
