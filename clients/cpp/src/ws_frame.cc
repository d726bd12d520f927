// See ws_frame.h.
#include "ws_frame.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <random>

namespace courier::client::detail::ws {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

void RandomBytes(uint8_t* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) == 1) return;
  thread_local std::mt19937 rng{std::random_device{}()};
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(rng());
}

Result Error(std::string* error, std::string why) {
  *error = std::move(why);
  return Result::kError;
}

}  // namespace

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string AcceptFor(std::string_view key) {
  const std::string text = std::string(key) + std::string(kGuid);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), digest, &len, EVP_sha1(), nullptr);
  return Base64(std::string_view(reinterpret_cast<const char*>(digest), len));
}

std::string NewKey() {
  uint8_t raw[16];
  RandomBytes(raw, sizeof raw);
  return Base64(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
}

std::string HandshakeRequest(std::string_view host, int port, std::string_view path, std::string_view key) {
  std::string h(host);
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6 literal
  std::string req = "GET " + std::string(path.empty() ? "/" : path) + " HTTP/1.1\r\n";
  req += "Host: " + h + ":" + std::to_string(port) + "\r\n";
  req += "Upgrade: websocket\r\nConnection: Upgrade\r\n";
  req += "Sec-WebSocket-Key: " + std::string(key) + "\r\n";
  req += "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n";
  return req;
}

Result ParseHandshakeResponse(std::string_view in, std::string_view key, size_t* consumed, std::string* error) {
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (in.size() > 16384) return Error(error, "WebSocket handshake answer too long");
    return Result::kNeedMore;
  }
  std::string_view head = in.substr(0, end + 2);
  const size_t first_eol = head.find("\r\n");
  const std::string_view status = head.substr(0, first_eol);
  if (!status.starts_with("HTTP/1.1 101")) { return Error(error, "WebSocket upgrade refused: " + std::string(status)); }
  bool upgrade = false, connection = false, accept = false;
  std::string protocol;
  for (size_t pos = first_eol + 2; pos < head.size();) {
    const size_t eol = head.find("\r\n", pos);
    const std::string_view line = head.substr(pos, eol - pos);
    pos = eol + 2;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name = Lower(Trim(line.substr(0, colon)));
    const std::string_view value = Trim(line.substr(colon + 1));
    if (name == "upgrade") upgrade = Lower(value) == "websocket";
    if (name == "connection") connection = Lower(value).find("upgrade") != std::string::npos;
    if (name == "sec-websocket-accept") accept = value == AcceptFor(key);
    if (name == "sec-websocket-protocol") protocol = Lower(value);
  }
  if (!upgrade || !connection) return Error(error, "WebSocket upgrade without Upgrade/Connection headers");
  if (!accept) return Error(error, "WebSocket upgrade with a wrong Sec-WebSocket-Accept");
  if (!protocol.empty() && protocol != "mqtt") return Error(error, "WebSocket subprotocol " + protocol + ", not mqtt");
  *consumed = end + 4;
  return Result::kOk;
}

std::string EncodeFrame(Opcode op, std::string_view payload, bool masked, std::array<uint8_t, 4> mask, bool fin) {
  std::string out;
  out += static_cast<char>((fin ? 0x80 : 0) | op);
  const uint8_t m = masked ? 0x80 : 0;
  const size_t n = payload.size();
  if (n < 126) {
    out += static_cast<char>(m | n);
  } else if (n <= 0xffff) {
    out += static_cast<char>(m | 126);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xff);
  } else {
    out += static_cast<char>(m | 127);
    for (int i = 7; i >= 0; --i) out += static_cast<char>((static_cast<uint64_t>(n) >> (8 * i)) & 0xff);
  }
  if (!masked) return out + std::string(payload);
  for (uint8_t b : mask) out += static_cast<char>(b);
  const size_t start = out.size();
  out += payload;
  for (size_t i = 0; i < n; ++i) out[start + i] = static_cast<char>(out[start + i] ^ mask[i % 4]);
  return out;
}

std::string ClientFrame(Opcode op, std::string_view payload) {
  std::array<uint8_t, 4> mask;
  RandomBytes(mask.data(), mask.size());
  return EncodeFrame(op, payload, true, mask);
}

Result FrameDecoder::Next(Event* out, std::string* error) {
  while (true) {
    const std::string_view in = std::string_view(buf_).substr(pos_);
    if (in.size() < 2) return Result::kNeedMore;
    const uint8_t b0 = static_cast<uint8_t>(in[0]), b1 = static_cast<uint8_t>(in[1]);
    const bool fin = b0 & 0x80;
    const uint8_t op = b0 & 0x0f;
    const bool masked = b1 & 0x80;
    if (b0 & 0x70) return Error(error, "WebSocket frame with reserved bits set");
    if (masked != !from_server_) {
      return Error(error, from_server_ ? "masked WebSocket frame from the server" : "unmasked client frame");
    }
    size_t header = 2;
    uint64_t len = b1 & 0x7f;
    if (len == 126 || len == 127) {
      const size_t bytes = len == 126 ? 2 : 8;
      if (in.size() < 2 + bytes) return Result::kNeedMore;
      len = 0;
      for (size_t i = 0; i < bytes; ++i) len = (len << 8) | static_cast<uint8_t>(in[2 + i]);
      header += bytes;
      if (bytes == 8 && (len >> 63)) return Error(error, "WebSocket frame length with the top bit set");
    }
    const bool control = op & 0x08;
    if (control && (len > 125 || !fin)) return Error(error, "bad WebSocket control frame");
    if (len > kMaxMessage || message_.size() + len > kMaxMessage) {
      return Error(error, "WebSocket message too large (" + std::to_string(len) + " bytes)");
    }
    std::array<uint8_t, 4> mask{};
    if (masked) {
      if (in.size() < header + 4) return Result::kNeedMore;
      for (int i = 0; i < 4; ++i) mask[i] = static_cast<uint8_t>(in[header + i]);
      header += 4;
    }
    if (in.size() - header < len) return Result::kNeedMore;
    std::string payload(in.substr(header, len));
    if (masked) {
      for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(payload[i] ^ mask[i % 4]);
    }
    pos_ += header + len;
    if (pos_ > 65536 && pos_ * 2 > buf_.size()) {
      buf_.erase(0, pos_);
      pos_ = 0;
    }
    switch (op) {
      case kContinuation:
        if (!in_message_) return Error(error, "WebSocket continuation frame outside a message");
        message_ += payload;
        break;
      case kText: return Error(error, "WebSocket text frame (MQTT needs binary frames)");
      case kBinary:
        if (in_message_) return Error(error, "WebSocket data frame inside a fragmented message");
        in_message_ = true;
        message_ = std::move(payload);
        break;
      case kPing:
      case kPong:
        *out = Event{.kind = op == kPing ? Event::kPing : Event::kPong, .data = std::move(payload)};
        return Result::kOk;
      case kClose: {
        if (payload.size() == 1) return Error(error, "WebSocket close frame with a one-byte body");
        Event e{.kind = Event::kClose};
        if (payload.size() >= 2) {
          e.close_code =
              static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) | static_cast<uint8_t>(payload[1]));
          e.data = payload.substr(2);
        }
        *out = std::move(e);
        return Result::kOk;
      }
      default: return Error(error, "WebSocket frame with unknown opcode " + std::to_string(op));
    }
    if (fin) {
      in_message_ = false;
      *out = Event{.kind = Event::kMessage, .data = std::move(message_)};
      message_.clear();
      return Result::kOk;
    }
  }
}

}  // namespace courier::client::detail::ws
