#include "edit.h"

#include <limits>
#include <string>

namespace courier::core {

std::optional<Rejection> ValidateReplace(const courier::v1::Message& m, const CoreOptions& options) {
  if (!IsReplace(m)) return std::nullopt;
  if (m.replaces().empty()) return Rejection{ErrorCode::kInvalidEdit, "a recall needs replaces"};
  if (m.replaces().size() > options.max_id_bytes) {
    return Rejection{ErrorCode::kInvalidEdit, "replaces has " + std::to_string(m.replaces().size()) + " bytes, limit " +
                                                  std::to_string(options.max_id_bytes)};
  }
  if (m.replaces() == m.id()) { return Rejection{ErrorCode::kInvalidEdit, "replaces names the message's own id"}; }
  if (m.transient()) { return Rejection{ErrorCode::kInvalidEdit, "an edit or recall cannot be transient"}; }
  if (m.recall() && (!m.payload().empty() || !m.encrypted().empty() || !m.signature().empty())) {
    return Rejection{ErrorCode::kRecallHasContent, "a recall carries no payload, encrypted or signature"};
  }
  return std::nullopt;
}

int64_t ReplaceNotBefore(const courier::v1::Message& m, const CoreOptions& options, int64_t now_ms) {
  const uint32_t window_s = m.recall() ? options.recall_window_s : options.edit_window_s;
  if (window_s == 0) return std::numeric_limits<int64_t>::min();
  return now_ms - int64_t{window_s} * 1000;
}

Rejection RejectionOf(storage::ReplaceRefusal refusal, const courier::v1::Message& m, const CoreOptions& options) {
  using R = storage::ReplaceRefusal;
  switch (refusal) {
    case R::kUnknownOriginal:
      return {ErrorCode::kUnknownOriginal, "no message of yours with id " + m.replaces() + " can be replaced"};
    case R::kWindowClosed: {
      const bool recall = m.recall();
      const uint32_t s = recall ? options.recall_window_s : options.edit_window_s;
      return {ErrorCode::kEditWindowClosed,
              std::string(recall ? "recall" : "edit") + " window of " + std::to_string(s) + " s has closed"};
    }
    case R::kAlreadyRecalled: return {ErrorCode::kAlreadyRecalled, "the message was recalled"};
    case R::kRecipientChanged: return {ErrorCode::kEditChangesRecipient, "to must name the original's user or group"};
    case R::kNone: break;
  }
  return {ErrorCode::kInternal, "no refusal"};
}

}  // namespace courier::core
