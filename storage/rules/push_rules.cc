#include "push_rules.h"

#include "append_rules.h"

namespace courier::storage {

std::string DueKey(std::string_view user, std::string_view device, int32_t offset) {
  std::string k(user);
  k.push_back('\0');
  k.append(device);
  k.push_back('\0');
  const auto o = static_cast<uint32_t>(offset);
  for (int shift = 24; shift >= 0; shift -= 8) k.push_back(static_cast<char>((o >> shift) & 0xff));
  return k;
}

bool ParseDueKey(std::string_view key, PushKey* out) {
  const auto a = key.find('\0');
  if (a == std::string_view::npos || key.size() < a + 1 + 1 + 4) return false;
  const auto b = key.size() - 5;
  if (key[b] != '\0') return false;
  out->user = std::string(key.substr(0, a));
  out->device = std::string(key.substr(a + 1, b - a - 1));
  if (out->device.find('\0') != std::string::npos) return false;
  uint32_t o = 0;
  for (size_t i = b + 1; i < key.size(); ++i) o = (o << 8) | static_cast<unsigned char>(key[i]);
  out->offset = static_cast<int32_t>(o);
  return true;
}

Status CheckPushNames(const std::string& user, const std::string& device, size_t max_key) {
  if (!ValidName(user) || !ValidName(device) || DueKey(user, device, 0).size() > max_key) {
    return Status::Invalid("user or device cannot be a push key");
  }
  return Status::Ok();
}

courier::store::v1::PushDue DueRecord(const courier::v1::Message& m, int32_t undelivered, bool with_payload) {
  courier::store::v1::PushDue d;
  d.set_id(m.id());
  *d.mutable_from() = m.from();
  d.set_group(m.to().group());
  d.set_user_offset(m.user_offset());
  d.set_priority(m.priority());
  d.set_undelivered(undelivered);
  d.set_created_ms(m.server_timestamp());
  if (with_payload) d.set_payload(m.payload());
  return d;
}

PushDue DueOf(const PushKey& k, const courier::store::v1::PushReg& reg, const courier::store::v1::PushDue& d) {
  return PushDue{.user = k.user,
                 .device = k.device,
                 .offset = k.offset,
                 .app = reg.app(),
                 .token = reg.token(),
                 .id = d.id(),
                 .from_user = d.from().user(),
                 .from_device = d.from().device(),
                 .group = d.group(),
                 .user_offset = d.user_offset(),
                 .priority = d.priority(),
                 .undelivered = d.undelivered(),
                 .created_ms = d.created_ms(),
                 .payload = d.payload()};
}

}  // namespace courier::storage
