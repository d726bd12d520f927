// See mqtt_codec.h.
#include "mqtt_codec.h"

namespace courier::client::detail::mqtt {
namespace {

void Put16(std::string& out, uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xff);
}

void PutString(std::string& out, std::string_view s) {
  Put16(out, static_cast<uint16_t>(s.size()));
  out.append(s);
}

// Fixed header + body.
std::string WithHeader(uint8_t first, const std::string& body) {
  std::string out;
  out += static_cast<char>(first);
  PutVarint(out, static_cast<uint32_t>(body.size()));
  out += body;
  return out;
}

// Reads the body of one packet; every Get fails once past the end.
class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool U8(uint8_t* v) {
    if (pos_ + 1 > b_.size()) return false;
    *v = static_cast<uint8_t>(b_[pos_++]);
    return true;
  }
  bool U16(uint16_t* v) {
    if (pos_ + 2 > b_.size()) return false;
    *v = static_cast<uint16_t>((static_cast<uint8_t>(b_[pos_]) << 8) | static_cast<uint8_t>(b_[pos_ + 1]));
    pos_ += 2;
    return true;
  }
  bool String(std::string* s) {
    uint16_t n = 0;
    if (!U16(&n) || pos_ + n > b_.size()) return false;
    s->assign(b_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  // Skips a property block (length, then that many bytes).
  bool SkipProperties() {
    uint32_t n = 0;
    if (GetVarint(b_, &pos_, &n) != 1 || pos_ + n > b_.size()) return false;
    pos_ += n;
    return true;
  }
  bool AtEnd() const { return pos_ >= b_.size(); }
  std::string_view Rest() const { return b_.substr(pos_); }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

bool Fail(std::string* error, const std::string& why) {
  *error = why;
  return false;
}

bool DecodeBody(uint8_t first, std::string_view body, Packet* p, std::string* error) {
  Reader r(body);
  const uint8_t flags = first & 0x0f;
  switch (p->type) {
    case kConnack: {
      uint8_t ack = 0;
      if (!r.U8(&ack) || !r.U8(&p->reason)) return Fail(error, "short CONNACK");
      p->session_present = ack & 1;
      if (!r.AtEnd() && !r.SkipProperties()) return Fail(error, "bad CONNACK properties");
      return true;
    }
    case kPublish: {
      p->qos = (flags >> 1) & 3;
      p->retain = flags & 1;
      p->dup = flags & 8;
      if (p->qos == 3) return Fail(error, "PUBLISH with QoS 3");
      if (!r.String(&p->topic)) return Fail(error, "short PUBLISH topic");
      if (p->qos > 0 && !r.U16(&p->mid)) return Fail(error, "short PUBLISH packet id");
      if (!r.SkipProperties()) return Fail(error, "bad PUBLISH properties");
      p->payload.assign(r.Rest());
      return true;
    }
    case kPuback: {
      if (!r.U16(&p->mid)) return Fail(error, "short PUBACK");
      if (!r.AtEnd() && !r.U8(&p->reason)) return Fail(error, "short PUBACK");
      if (!r.AtEnd() && !r.SkipProperties()) return Fail(error, "bad PUBACK properties");
      return true;
    }
    case kSuback: {
      if (!r.U16(&p->mid) || !r.SkipProperties()) return Fail(error, "short SUBACK");
      for (uint8_t g = 0; r.U8(&g);) p->granted.push_back(g);
      if (p->granted.empty()) return Fail(error, "SUBACK without reason codes");
      return true;
    }
    case kPingresp:
      if (!body.empty()) return Fail(error, "PINGRESP with a body");
      return true;
    case kDisconnect:
      if (!r.AtEnd() && !r.U8(&p->reason)) return Fail(error, "short DISCONNECT");
      if (!r.AtEnd() && !r.SkipProperties()) return Fail(error, "bad DISCONNECT properties");
      return true;
    default: return Fail(error, "unexpected packet type " + std::to_string(p->type));
  }
}

}  // namespace

void PutVarint(std::string& out, uint32_t v) {
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    if (v > 0) b |= 0x80;
    out += static_cast<char>(b);
  } while (v > 0);
}

int GetVarint(std::string_view in, size_t* pos, uint32_t* v) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    if (*pos + i >= in.size()) return 0;
    const uint8_t b = static_cast<uint8_t>(in[*pos + i]);
    value |= static_cast<uint32_t>(b & 0x7f) << (7 * i);
    if (!(b & 0x80)) {
      *pos += i + 1;
      *v = value;
      return 1;
    }
  }
  return -1;
}

std::string EncodeConnect(const ConnectFields& c) {
  std::string body;
  PutString(body, "MQTT");
  body += static_cast<char>(5);  // protocol version
  uint8_t flags = c.clean_start ? 0x02 : 0;
  if (!c.username.empty()) flags |= 0x80;
  if (!c.password.empty()) flags |= 0x40;
  body += static_cast<char>(flags);
  Put16(body, c.keepalive_s);
  PutVarint(body, 0);  // properties
  PutString(body, c.client_id);
  if (!c.username.empty()) PutString(body, c.username);
  if (!c.password.empty()) PutString(body, c.password);
  return WithHeader(kConnect << 4, body);
}

std::string EncodePublish(std::string_view topic, std::string_view payload, int qos, uint16_t mid) {
  std::string body;
  PutString(body, topic);
  if (qos > 0) Put16(body, mid);
  PutVarint(body, 0);
  body.append(payload);
  return WithHeader(static_cast<uint8_t>((kPublish << 4) | ((qos & 3) << 1)), body);
}

std::string EncodePuback(uint16_t mid, uint8_t reason) {
  std::string body;
  Put16(body, mid);
  if (reason != 0) body += static_cast<char>(reason);
  return WithHeader(kPuback << 4, body);
}

std::string EncodeSubscribe(uint16_t mid, const std::vector<std::string>& filters, int qos) {
  std::string body;
  Put16(body, mid);
  PutVarint(body, 0);
  for (const auto& f : filters) {
    PutString(body, f);
    body += static_cast<char>(qos & 3);
  }
  return WithHeader((kSubscribe << 4) | 0x02, body);
}

std::string EncodePingreq() { return WithHeader(kPingreq << 4, ""); }

std::string EncodeDisconnect(uint8_t reason) {
  return WithHeader(kDisconnect << 4, std::string(1, static_cast<char>(reason)));
}

Decode DecodePacket(std::string_view in, Packet* out, size_t* consumed, std::string* error) {
  if (in.empty()) return Decode::kNeedMore;
  size_t pos = 1;
  uint32_t len = 0;
  const int v = GetVarint(in, &pos, &len);
  if (v == 0) return Decode::kNeedMore;
  if (v < 0) {
    *error = "malformed remaining length";
    return Decode::kError;
  }
  if (len > kMaxPacket) {
    *error = "packet of " + std::to_string(len) + " bytes is too large";
    return Decode::kError;
  }
  if (in.size() - pos < len) return Decode::kNeedMore;
  const uint8_t first = static_cast<uint8_t>(in[0]);
  Packet p;
  p.type = static_cast<PacketType>(first >> 4);
  if (!DecodeBody(first, in.substr(pos, len), &p, error)) return Decode::kError;
  *out = std::move(p);
  *consumed = pos + len;
  return Decode::kOk;
}

}  // namespace courier::client::detail::mqtt
