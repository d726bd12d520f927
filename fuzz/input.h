// The byte layout of one courier_fuzz_inbound input, shared by the fuzz
// target (Decode) and the seed generator (Encode). See fuzz/README.md.
//
//   input   := config record*
//   config  := u8   bits 0-1: engine variant (kVariants), bit 2: rate limiter on
//   record  := head [topic] [identity] [clock] len16 payload
//   head    := u8   bits 0-2: topic kind (TopicKind)
//                   bits 3-4: identity (Who); kRaw reads user and client id
//                   bit 5:    flush the store after this record
//                   bits 6-7: clock (Clock)
//   topic   := str8                        only for TopicKind::kRaw
//   identity:= str8 user, str8 client id   only for Who::kRaw
//   clock   := u32le seconds               only for Clock::kRaw
//   len16   := u16le payload length (cut to what is left)
//   str8    := u8 length, bytes (cut to what is left)
//
// Every byte string is a valid input: a short read yields empty fields.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace courier::fuzz {

enum class TopicKind : uint8_t {
  kOwnSend = 0,       // P/{user}/send
  kOwnSignal = 1,     // P/{user}/signal
  kOtherSend = 2,     // P/{other user}/send
  kOtherSignal = 3,   // P/{other user}/signal
  kOwnInbox = 4,      // P/{user}/inbox (only the plugin may publish there)
  kDeviceEvents = 5,  // P/{user}/devices/{client}/events
  kControl = 6,       // $CONTROL/courier/v1, the admin API (JSON payload)
  kRaw = 7,           // read from the input
};

enum class Who : uint8_t { kAlice1 = 0, kBob1 = 1, kAlice2 = 2, kRaw = 3 };

enum class Clock : uint8_t {
  kTick = 0,   // base + 1 s per record
  kSame = 1,   // base
  kLater = 2,  // base + 10 s per record (lets rate-limit buckets refill)
  kRaw = 3,    // u32 seconds since the epoch from the input
};

inline constexpr int kVariants = 4;
inline constexpr int64_t kBaseMs = 1'700'000'000'000;  // 2023-11-14

struct Record {
  TopicKind topic = TopicKind::kOwnSend;
  Who who = Who::kAlice1;
  bool flush = false;
  Clock clock = Clock::kTick;
  std::string raw_topic;
  std::string raw_user;
  std::string raw_client;
  uint32_t raw_seconds = 0;
  std::string payload;
};

struct Input {
  int variant = 0;
  bool rate_limit = false;
  std::vector<Record> records;
};

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
  bool done() const { return p_ >= end_; }
  uint8_t U8() { return p_ < end_ ? *p_++ : 0; }
  uint16_t U16() {
    uint16_t lo = U8();
    return static_cast<uint16_t>(lo | (U8() << 8));
  }
  uint32_t U32() {
    uint32_t v = U16();
    return v | (static_cast<uint32_t>(U16()) << 16);
  }
  std::string Bytes(size_t n) {
    n = std::min(n, static_cast<size_t>(end_ - p_));
    std::string s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  std::string Str8() { return Bytes(U8()); }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

inline Input Decode(const uint8_t* data, size_t size) {
  Reader r(data, size);
  Input in;
  const uint8_t config = r.U8();
  in.variant = config & 3;
  in.rate_limit = (config & 4) != 0;
  while (!r.done()) {
    Record rec;
    const uint8_t head = r.U8();
    rec.topic = static_cast<TopicKind>(head & 7);
    rec.who = static_cast<Who>((head >> 3) & 3);
    rec.flush = (head & 0x20) != 0;
    rec.clock = static_cast<Clock>(head >> 6);
    if (rec.topic == TopicKind::kRaw) rec.raw_topic = r.Str8();
    if (rec.who == Who::kRaw) {
      rec.raw_user = r.Str8();
      rec.raw_client = r.Str8();
    }
    if (rec.clock == Clock::kRaw) rec.raw_seconds = r.U32();
    rec.payload = r.Bytes(r.U16());
    in.records.push_back(std::move(rec));
  }
  return in;
}

class Writer {
 public:
  explicit Writer(int variant, bool rate_limit = false) {
    out_.push_back(static_cast<char>((variant & 3) | (rate_limit ? 4 : 0)));
  }
  Writer& Add(const Record& rec) {
    out_.push_back(static_cast<char>(static_cast<uint8_t>(rec.topic) | (static_cast<uint8_t>(rec.who) << 3) |
                                     (rec.flush ? 0x20 : 0) | (static_cast<uint8_t>(rec.clock) << 6)));
    if (rec.topic == TopicKind::kRaw) Str8(rec.raw_topic);
    if (rec.who == Who::kRaw) {
      Str8(rec.raw_user);
      Str8(rec.raw_client);
    }
    if (rec.clock == Clock::kRaw) {
      for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>((rec.raw_seconds >> (8 * i)) & 0xff));
    }
    const size_t n = std::min<size_t>(rec.payload.size(), 0xffff);
    out_.push_back(static_cast<char>(n & 0xff));
    out_.push_back(static_cast<char>(n >> 8));
    out_.append(rec.payload, 0, n);
    return *this;
  }
  const std::string& bytes() const { return out_; }

 private:
  void Str8(const std::string& s) {
    const size_t n = std::min<size_t>(s.size(), 0xff);
    out_.push_back(static_cast<char>(n));
    out_.append(s, 0, n);
  }
  std::string out_;
};

}  // namespace courier::fuzz
