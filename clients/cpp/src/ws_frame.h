// WebSocket (RFC 6455) pieces for the client side: the opening handshake
// (request, Sec-WebSocket-Key/Accept, subprotocol `mqtt`), frame encoding
// (client frames are masked) and a decoder that reassembles fragmented
// messages and reports ping, pong and close frames.
//
// Pure: no I/O. The free functions are safe from any thread; a FrameDecoder
// belongs to one connection and one thread. Failures: bad input gives
// kError with a reason (the connection must then be closed); nothing throws
// except std::bad_alloc.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace courier::client::detail::ws {

enum Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xa,
};

// Largest message (all its fragments) the decoder accepts.
constexpr size_t kMaxMessage = 64u << 20;

std::string Base64(std::string_view bytes);
// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)).
std::string AcceptFor(std::string_view key);
// A fresh Sec-WebSocket-Key: base64 of 16 random bytes.
std::string NewKey();

// The HTTP upgrade request for ws(s)://host:port/path with subprotocol mqtt.
std::string HandshakeRequest(std::string_view host, int port, std::string_view path, std::string_view key);

enum class Result { kNeedMore, kOk, kError };

// Checks the server's answer to HandshakeRequest: status 101, Upgrade,
// Connection, the Accept of `key`, and subprotocol mqtt when one is named.
// kOk: *consumed is the length of the header (bytes after it are frames).
Result ParseHandshakeResponse(std::string_view in, std::string_view key, size_t* consumed, std::string* error);

// One frame with FIN set (or clear, for the first fragments). `mask` is
// applied when `masked` (clients must mask).
std::string EncodeFrame(Opcode op, std::string_view payload, bool masked, std::array<uint8_t, 4> mask, bool fin = true);
// EncodeFrame with a random mask.
std::string ClientFrame(Opcode op, std::string_view payload);

struct Event {
  enum Kind { kMessage, kPing, kPong, kClose } kind = kMessage;
  std::string data;         // the message, or the ping/pong payload, or the close reason text
  uint16_t close_code = 0;  // kClose: 0 when the frame had none
};

// Splits a byte stream into frames. A client reads unmasked frames from a
// server (`from_server`); a test may decode what a client sent (masked).
class FrameDecoder {
 public:
  explicit FrameDecoder(bool from_server = true) : from_server_(from_server) {}

  void Feed(std::string_view bytes) { buf_.append(bytes); }
  // The next complete event. kNeedMore: wait for more bytes. kError:
  // *error says why; the decoder is then unusable.
  Result Next(Event* out, std::string* error);

 private:
  bool from_server_;
  std::string buf_;
  size_t pos_ = 0;           // start of the unread bytes in buf_
  bool in_message_ = false;  // fragments of a data message are pending
  std::string message_;
};

}  // namespace courier::client::detail::ws
