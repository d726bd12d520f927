// The HTTP call Courier makes to the app's push gateway (docs/push.md):
// the JSON body, the idempotency key and the HMAC header. Pure.
#pragma once

#include <string>
#include <string_view>

#include "requests.h"

namespace courier::push {

// JSON body for `latest` (the newest due push of a device) standing for
// `count` pushes collapsed into one. With `with_payload`, the message's
// payload goes along as base64 (`payload`); never encrypted or signature.
std::string PushBody(const storage::PushDue& latest, size_t count, bool with_payload);

// "user/device/offset" of `due`: the same for every attempt of one push,
// so the gateway can drop repeats (header Idempotency-Key).
std::string IdempotencyKey(const storage::PushDue& due);

// Lower-case hex HMAC-SHA256 of `body` with `secret` (header
// X-Courier-Signature: sha256=<hex>).
std::string HmacSha256Hex(std::string_view secret, std::string_view body);

// RFC 4648 base64 with padding.
std::string Base64(std::string_view bytes);

}  // namespace courier::push
