// Engine-neutral checks of an append, made before anything is written: the
// names, the key sizes, and each receiver's quota of undelivered entries.
//
// Key sizes follow the LMDB layout (storage/lmdb/keys.h); PostgreSQL keeps
// the same limit so that both engines refuse the same names. Pure
// functions, any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "requests.h"
#include "status.h"

namespace courier::storage {

// A user, device or group name the store can key: not empty, no NUL.
bool ValidName(const std::string& s);

// The sender, id and conversation of `r`, and their key sizes against
// `max_key` bytes. Invalid, with a reason, when one is missing or too long.
Status CheckAppendNames(const AppendRequest& r, size_t max_key);

// Whether the dedup key of the message an edit or recall replaces fits;
// when it does not, no such message can be stored.
bool ReplacedKeyFits(const AppendRequest& r, size_t max_key);

// The user and device of a pull or a receipt (its cursor and log keys)
// against `max_key` bytes.
bool CursorNamesFit(const std::string& user, const std::string& device, size_t max_key);

// Each receiver: a valid name other than the sender whose keys fit
// (Invalid), and, when r.max_undelivered > 0, fewer than that many entries
// waiting as `waiting(user)` counts them (Limit).
Status CheckReceivers(const AppendRequest& r, const std::vector<std::string>& receivers, size_t max_key,
                      const std::function<int32_t(const std::string&)>& waiting);

}  // namespace courier::storage
