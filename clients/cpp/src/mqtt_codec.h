// A small MQTT v5 codec for the client's own transports (ws_transport.cc):
// the packets a client sends (CONNECT, PUBLISH, PUBACK, SUBSCRIBE, PINGREQ,
// DISCONNECT) and the ones it receives (CONNACK, PUBLISH, PUBACK, SUBACK,
// PINGRESP, DISCONNECT). Properties are never sent and are skipped when
// received.
//
// Pure functions and one value type: no I/O, no state, no threads; safe
// from any thread. Failures: DecodePacket returns kError with a reason for
// bytes that are not a valid packet; nothing throws except std::bad_alloc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace courier::client::detail::mqtt {

enum PacketType : uint8_t {
  kConnect = 1,
  kConnack = 2,
  kPublish = 3,
  kPuback = 4,
  kSubscribe = 8,
  kSuback = 9,
  kPingreq = 12,
  kPingresp = 13,
  kDisconnect = 14,
};

// Largest packet the decoder accepts (the VBI maximum is 268435455).
constexpr size_t kMaxPacket = 64u << 20;

// Appends the variable byte integer of `v` (< 268435456).
void PutVarint(std::string& out, uint32_t v);
// Reads a variable byte integer at `in[*pos]`. 1: done (*pos moves past it),
// 0: more bytes needed, -1: malformed (more than four bytes).
int GetVarint(std::string_view in, size_t* pos, uint32_t* v);

struct ConnectFields {
  std::string client_id;
  std::string username;  // empty: none
  std::string password;  // empty: none
  uint16_t keepalive_s = 0;
  bool clean_start = true;
};

std::string EncodeConnect(const ConnectFields& c);
// qos 0 ignores `mid`.
std::string EncodePublish(std::string_view topic, std::string_view payload, int qos, uint16_t mid);
std::string EncodePuback(uint16_t mid, uint8_t reason = 0);
// Every filter with the same maximum QoS and no other option bits.
std::string EncodeSubscribe(uint16_t mid, const std::vector<std::string>& filters, int qos);
std::string EncodePingreq();
std::string EncodeDisconnect(uint8_t reason);

// One received packet; which fields are set depends on `type`.
struct Packet {
  PacketType type = kConnack;
  uint8_t reason = 0;            // CONNACK, PUBACK, DISCONNECT
  bool session_present = false;  // CONNACK
  uint16_t mid = 0;              // PUBLISH (qos > 0), PUBACK, SUBACK
  int qos = 0;                   // PUBLISH
  bool retain = false;           // PUBLISH
  bool dup = false;              // PUBLISH
  std::string topic;             // PUBLISH
  std::string payload;           // PUBLISH
  std::vector<uint8_t> granted;  // SUBACK: one reason code per filter
};

enum class Decode { kNeedMore, kOk, kError };

// Decodes the first packet of `in`. kOk: *out is set and *consumed is its
// length. kNeedMore: `in` holds only a prefix. kError: *error says why
// (then the connection must be closed).
Decode DecodePacket(std::string_view in, Packet* out, size_t* consumed, std::string* error);

}  // namespace courier::client::detail::mqtt
