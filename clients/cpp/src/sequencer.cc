#include "sequencer.h"

#include <algorithm>

namespace courier::client::detail {

Sequencer::Sequencer(std::optional<int32_t> cursor, std::string id_prefix)
    : cursor_(cursor), id_prefix_(std::move(id_prefix)) {}

std::optional<std::string> Sequencer::running_id() const {
  if (!running_) return std::nullopt;
  return running_->order.id;
}

PullOrder Sequencer::NewPull(int32_t after, bool head_only) {
  PullOrder o{.id = id_prefix_ + std::to_string(next_id_++), .after = after, .head_only = head_only};
  running_ = Running{.order = o, .lowest = std::nullopt};
  return o;
}

PullOrder Sequencer::StartSync(StartFrom start) {
  running_.reset();
  if (cursor_) return NewPull(*cursor_);
  switch (start) {
    case StartFrom::kBeginning:
      cursor_ = 0;  // everything after 0: the whole log
      return NewPull(0);
    case StartFrom::kNow: return NewPull(0, /*head_only=*/true);
    case StartFrom::kServerCursor: break;
  }
  return NewPull(-1);
}

void Sequencer::Drain(std::vector<Message>* out) {
  if (!cursor_) return;
  while (!buffer_.empty()) {
    auto it = buffer_.begin();
    if (it->first <= *cursor_) {
      buffer_.erase(it);
    } else if (it->first == *cursor_ + 1) {
      cursor_ = it->first;
      out->push_back(std::move(it->second));
      buffer_.erase(it);
    } else {
      break;
    }
  }
}

std::optional<PullOrder> Sequencer::OnEntry(Message m, std::vector<Message>* out) {
  const int32_t offset = m.offset;
  if (offset <= 0) return std::nullopt;  // not a stored entry: the caller handles it
  if (running_ && m.pulled && offset > running_->order.after) {
    running_->lowest = std::min(running_->lowest.value_or(offset), offset);
  }
  // A second copy of a buffered offset replaces the first: it was read from
  // the store later (a pull after a push), so its content and ticks are at
  // least as fresh (an edit or recall in between shows in it).
  if (!cursor_) {
    buffer_.insert_or_assign(offset, std::move(m));
    return std::nullopt;
  }
  if (offset <= *cursor_) return std::nullopt;  // duplicate
  if (offset == *cursor_ + 1) {
    cursor_ = offset;
    out->push_back(std::move(m));
    Drain(out);
    return std::nullopt;
  }
  buffer_.insert_or_assign(offset, std::move(m));
  if (running_) return std::nullopt;  // the running pull's response decides what next
  return NewPull(*cursor_);
}

std::optional<PullOrder> Sequencer::OnPullResponse(const std::string& id, int32_t head, uint32_t count,
                                                   std::vector<Message>* out, bool* synced,
                                                   std::optional<int32_t>* reset_from) {
  *synced = false;
  reset_from->reset();
  if (!running_ || running_->order.id != id) return std::nullopt;
  const Running r = *running_;
  running_.reset();

  if (cursor_ && head < *cursor_) {
    // The server's log ends before what we delivered: another or a wiped
    // store. Start again from its head rather than drop everything new.
    *reset_from = *cursor_;
    cursor_ = head;
    buffer_.clear();
  }

  if (!cursor_) {
    if (count > 0 && r.lowest) {
      cursor_ = *r.lowest - 1;
    } else if (count == 0) {
      cursor_ = head;  // nothing after the server's cursor, or only the head asked for
    } else {
      return NewPull(r.order.after, r.order.head_only);  // entries went missing: ask again
    }
  } else if (!r.order.head_only && r.order.after >= 0) {
    // Offsets in (after, absent_until] do not exist on the server.
    int32_t absent_until = r.order.after;
    if (count > 0 && r.lowest) {
      absent_until = *r.lowest - 1;
    } else if (count == 0) {
      absent_until = head;
    }
    if (!buffer_.empty()) absent_until = std::min(absent_until, buffer_.begin()->first - 1);
    if (*cursor_ >= r.order.after && *cursor_ < absent_until) cursor_ = absent_until;
  }
  Drain(out);

  // Below the head, or a gap before buffered entries (live ones can be newer
  // than the head this response reported): pull on.
  if (*cursor_ < head || !buffer_.empty()) return NewPull(*cursor_);
  *synced = true;
  return std::nullopt;
}

std::optional<PullOrder> Sequencer::OnPullFailed(const std::string& id) {
  if (!running_ || running_->order.id != id) return std::nullopt;
  const PullOrder old = running_->order;
  running_.reset();
  if (cursor_) return NewPull(*cursor_);
  return NewPull(old.after, old.head_only);
}

}  // namespace courier::client::detail
