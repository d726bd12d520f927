// Whether a delivery is the sending device's own DEVICE copy coming back to
// it on its user's shared inbox. Pure; called from the ACL check that
// Mosquitto runs for every delivery, so it reads only the two wire fields it
// needs and allocates nothing.
//
// Why: the DEVICE copy keeps the sender's *other* devices in sync. The
// sending device already holds the message and learns its offsets from the
// SENDER ack, so by default (CoreOptions::echo_to_sending_device false) the
// plugin denies this one delivery, as MQTT 5's No Local option would. It
// saves the broker one packet write per message. Pulled entries (on the
// device's own inbox topic) are never affected.
#pragma once

#include <string_view>

#include "topics.h"

namespace courier::core {

// True when `topic` is P/{user}/inbox and `payload` is a Message with
// signal_type DEVICE whose from.device is `client_id`. Anything it cannot
// read as such (another topic, a RECEIVER copy, bytes that do not parse as
// a Message) is false: when in doubt, deliver.
bool IsEchoToSendingDevice(const Topics& topics, std::string_view topic, std::string_view client_id,
                           std::string_view payload);

}  // namespace courier::core
