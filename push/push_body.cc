#include "push_body.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

namespace courier::push {

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n =
        (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint32_t(uint8_t(bytes[i + 2]));
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kAlphabet[(n >> shift) & 63]);
  }
  if (i < bytes.size()) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    if (i + 1 < bytes.size()) n |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string PushBody(const storage::PushDue& d, size_t count, bool with_payload) {
  nlohmann::json j = {{"user", d.user},
                      {"device", d.device},
                      {"app", d.app},
                      {"token", d.token},
                      {"id", d.id},
                      {"from", d.from_user},
                      {"from_device", d.from_device},
                      {"signal_offset", d.offset},
                      {"user_offset", d.user_offset},
                      {"priority", d.priority},
                      {"undelivered", d.undelivered},
                      {"count", count},
                      {"server_timestamp", d.created_ms}};
  if (!d.group.empty()) j["group"] = d.group;
  if (with_payload) j["payload"] = Base64(d.payload);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string IdempotencyKey(const storage::PushDue& d) {
  return d.user + "/" + d.device + "/" + std::to_string(d.offset);
}

std::string HmacSha256Hex(std::string_view secret, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 15]);
  }
  return out;
}

}  // namespace courier::push
