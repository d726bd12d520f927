// Limits and names the protocol core works with. Defaults are the plugin's
// defaults; every field is a plugin_opt_ of the same name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace courier::core {

struct CoreOptions {
  // First topic level(s) of every Courier topic. No wildcards, no leading or
  // trailing '/'.
  std::string topic_prefix = "msg";
  // Largest payload + encrypted of one Message, in bytes.
  uint32_t max_payload_bytes = 64 * 1024;
  // Longest Message.id, in bytes.
  uint32_t max_id_bytes = 128;
  // Longest user name or client id that may use Courier topics, in bytes.
  uint32_t max_name_bytes = 128;
  // Entries sent for a PULL whose limit is 0, and the most any PULL gets.
  uint32_t default_pull_limit = 100;
  uint32_t max_pull_limit = 1000;
  // How far Message.timestamp may be ahead of the server's clock, in seconds.
  uint32_t max_clock_skew_s = 86400;
  // Publishes per second one client id may make to send and signal topics;
  // 0 turns the limit off. The bucket holds rate_limit_burst publishes
  // (0 means twice the rate, at least 1).
  uint32_t rate_limit_per_s = 0;
  uint32_t rate_limit_burst = 0;
  // Entries a user's log may hold that no device of the user has received;
  // a send that would exceed it is refused (transient). 0 turns it off.
  uint32_t max_undelivered = 0;
  // Seconds an entry may wait for its receiver when Message.expiry is 0, and
  // the most any message may ask for. 0 means no expiry / no cap.
  uint32_t default_expiry_s = 30 * 86400;
  uint32_t max_expiry_s = 30 * 86400;
  // MQTT QoS of stored copies: inbox deliveries, pulled entries and the pull
  // response. 0: the store and each device's cursor make delivery reliable
  // (a device pulls after a reconnect and on a gap in offsets), and the
  // broker reads no PUBACK per copy. 1: Mosquitto also keeps copies for a
  // persistent session and waits for a PUBACK per copy.
  int delivery_qos = 0;
  // Whether the DEVICE copy on P/{user}/inbox also goes to the device that
  // sent the message. false: only the user's other devices get it; the
  // sending device has the message and its SENDER ack (core/echo.h).
  bool echo_to_sending_device = false;
  // How long after the original's server_timestamp its sender may edit it,
  // and recall it, in seconds. 0: no limit.
  uint32_t edit_window_s = 900;
  uint32_t recall_window_s = 172800;
  // Push: whether due pushes are stored with each message (set when the
  // plugin has a push_url), and whether they keep the payload.
  bool push = false;
  bool push_payload = false;
  // Members a group may have.
  uint32_t max_group_members = 256;
  // Users allowed to use the $CONTROL/courier/v1 admin API.
  std::vector<std::string> admin_users;

  bool operator==(const CoreOptions&) const = default;
};

}  // namespace courier::core
