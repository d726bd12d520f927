// Engine-neutral parts of due pushes: the scan key's form, which both
// engines hand out as PushScanResult::next_key (user NUL device NUL offset
// as a big-endian u32, LMDB's push_due key), and the PushDue a stored
// registration and due record make.
//
// Pure functions, any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "requests.h"
#include "status.h"
#include "store.pb.h"

namespace courier::storage {

std::string DueKey(std::string_view user, std::string_view device, int32_t offset);

// (user, device, offset) of a due key; false when it has another shape.
bool ParseDueKey(std::string_view key, PushKey* out);

// Invalid unless (user, device) can key a registration and its due pushes:
// both valid names (no NUL) whose due key fits `max_key` bytes.
Status CheckPushNames(const std::string& user, const std::string& device, size_t max_key);

// The due record of the RECEIVER copy `m`, with the receiver's count of
// undelivered entries; the payload only when `with_payload`.
courier::store::v1::PushDue DueRecord(const courier::v1::Message& m, int32_t undelivered, bool with_payload);

// The due push of device k.device of user k.user, registered as `reg`.
PushDue DueOf(const PushKey& k, const courier::store::v1::PushReg& reg, const courier::store::v1::PushDue& d);

}  // namespace courier::storage
