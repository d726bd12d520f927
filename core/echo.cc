#include "echo.h"

#include <cstdint>
#include <optional>

namespace courier::core {
namespace {

// Field numbers of courier.v1.Message and Identity (proto/messaging.proto).
constexpr uint32_t kMessageFrom = 4;
constexpr uint32_t kMessageSignalType = 12;
constexpr uint32_t kIdentityDevice = 2;
constexpr uint64_t kSignalTypeDevice = 2;

enum WireType : uint32_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

// Deeper groups than this are read as malformed (protobuf's own parser
// stops at 100 levels).
constexpr int kMaxGroupDepth = 64;

// A bounds-checked reader over protobuf wire bytes. Every method returns
// false on truncated or malformed input and never reads past the end.
class WireReader {
 public:
  explicit WireReader(std::string_view bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}
  bool done() const { return p_ == end_; }

  // Reads one field's key and value: a varint's value into *varint, a
  // length-delimited field's bytes into *bytes. Other wire types, groups
  // included, are skipped. Unknown fields, which the plugin keeps in what
  // it stores, may be of any wire type.
  bool Field(uint32_t* number, uint32_t* type, uint64_t* varint, std::string_view* bytes) {
    return Key(number, type) && Value(*number, *type, varint, bytes, 0);
  }

 private:
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return false;
      const auto b = static_cast<uint8_t>(*p_++);
      *v |= uint64_t(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }

  bool Key(uint32_t* number, uint32_t* type) {
    uint64_t key = 0;
    if (!Varint(&key)) return false;
    *number = static_cast<uint32_t>(key >> 3);
    *type = static_cast<uint32_t>(key & 7);
    return *number != 0;  // field 0 does not exist
  }

  bool Value(uint32_t number, uint32_t type, uint64_t* varint, std::string_view* bytes, int depth) {
    switch (type) {
      case kVarint: return Varint(varint);
      case kFixed64: return Skip(8);
      case kFixed32: return Skip(4);
      case kLengthDelimited: {
        uint64_t n = 0;
        if (!Varint(&n) || n > uint64_t(end_ - p_)) return false;
        *bytes = std::string_view(p_, n);
        p_ += n;
        return true;
      }
      case kStartGroup: return SkipGroup(number, depth + 1);
      default: return false;  // an end-group without its start, or types 6 and 7
    }
  }

  // Skips to the end-group of field `number`, nested groups included.
  bool SkipGroup(uint32_t number, int depth) {
    if (depth > kMaxGroupDepth) return false;
    for (;;) {
      uint32_t n = 0, t = 0;
      uint64_t varint = 0;
      std::string_view bytes;
      if (!Key(&n, &t)) return false;
      if (t == kEndGroup) return n == number;
      if (!Value(n, t, &varint, &bytes, depth)) return false;
    }
  }

  bool Skip(size_t n) {
    if (size_t(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }

  const char* p_;
  const char* end_;
};

// Calls on_field(number, type, varint, bytes) for every field of the
// message in `bytes`; false when the bytes are unreadable.
template <typename OnField>
bool ForEachField(std::string_view bytes, OnField on_field) {
  WireReader r(bytes);
  while (!r.done()) {
    uint32_t number = 0, type = 0;
    uint64_t varint = 0;
    std::string_view value;
    if (!r.Field(&number, &type, &varint, &value)) return false;
    on_field(number, type, varint, value);
  }
  return true;
}

}  // namespace

bool IsEchoToSendingDevice(const Topics& topics, std::string_view topic, std::string_view client_id,
                           std::string_view payload) {
  if (client_id.empty()) return false;
  auto levels = topics.Levels(topic);
  if (!levels || levels->size() != 2 || (*levels)[1] != "inbox") return false;
  // A field seen twice (never in the plugin's own payloads): the later counts.
  bool is_device_copy = false;
  std::optional<std::string_view> from;
  const bool readable =
      ForEachField(payload, [&](uint32_t number, uint32_t type, uint64_t varint, std::string_view bytes) {
        if (number == kMessageSignalType && type == kVarint) is_device_copy = varint == kSignalTypeDevice;
        if (number == kMessageFrom && type == kLengthDelimited) from = bytes;
      });
  if (!readable || !is_device_copy || !from) return false;
  std::string_view device;
  return ForEachField(*from,
                      [&](uint32_t number, uint32_t type, uint64_t, std::string_view bytes) {
                        if (number == kIdentityDevice && type == kLengthDelimited) device = bytes;
                      }) &&
         device == client_id;
}

}  // namespace courier::core
