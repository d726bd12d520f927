// Edit and recall: a Message with `replaces` changes (or, with `recall`,
// takes back) an earlier message of the same sender. Pure.
//
// The checks that need only the message are here; those that need the
// stored original (it exists, is not itself an edit, is not recalled, has
// the same recipient, is inside the window) run in the store, in the
// transaction that updates it, and come back as storage::ReplaceRefusal.
#pragma once

#include <cstdint>
#include <optional>

#include "core_options.h"
#include "messaging.pb.h"
#include "requests.h"
#include "validate.h"

namespace courier::core {

// True when `m` is an edit or a recall.
inline bool IsReplace(const courier::v1::Message& m) { return !m.replaces().empty() || m.recall(); }

// nullopt when the edit/recall fields of `m` are well formed (always for a
// plain message).
std::optional<Rejection> ValidateReplace(const courier::v1::Message& m, const CoreOptions& options);

// The earliest server_timestamp an original may have for `m` to replace it
// at `now_ms`: the edit window for an edit, the recall window for a recall.
int64_t ReplaceNotBefore(const courier::v1::Message& m, const CoreOptions& options, int64_t now_ms);

// The error a client gets for a refusal of the store (not kNone).
Rejection RejectionOf(storage::ReplaceRefusal refusal, const courier::v1::Message& m, const CoreOptions& options);

}  // namespace courier::core
