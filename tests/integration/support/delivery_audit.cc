#include "support/delivery_audit.h"

#include <memory>

#include "support/pg_log_reader.h"

namespace courier::it {
namespace {

constexpr size_t kSpelledOut = 10;

bool Count(size_t* n) { return ++*n <= kSpelledOut; }

}  // namespace

DeliveryAudit::DeliveryAudit(const EdgeTraffic& traffic) : traffic_(traffic) {
  for (const auto& s : traffic_.senders()) {
    for (const auto& [id, rec] : s->records()) {
      if (rec.acked) acked_[{s->user(), id}] = &rec;
    }
  }
  counts_.acked = acked_.size();
}

bool DeliveryAudit::ReadStore(const std::string& conninfo) {
  std::unique_ptr<PgLogReader> reader;
  auto opened = PgLogReader::Open(conninfo, &reader);
  EXPECT_TRUE(opened);
  if (!opened) return false;
  std::vector<std::string> users;
  for (const auto& s : traffic_.senders()) users.push_back(s->user());
  for (const auto& r : traffic_.receivers()) users.push_back(r->user());
  for (const auto& u : users) {
    auto read = reader->Log(u, &logs_[u], &heads_[u]);
    EXPECT_TRUE(read);
    if (!read) return false;
  }
  return true;
}

void DeliveryAudit::AddFinalPull(const std::string& receiver, const std::vector<v1::Message>& entries) {
  final_pulls_[receiver] = entries;
}

// Offsets 1..N per log, the head row says N; no (sender, id) twice per log.
void DeliveryAudit::CheckOffsets() {
  for (const auto& [u, log] : logs_) {
    if (static_cast<size_t>(heads_[u]) != log.size() && Count(&counts_.gaps)) {
      ADD_FAILURE() << u << ": head row " << heads_[u] << " but " << log.size() << " entries";
    }
    std::map<Key, int> seen;
    for (size_t i = 0; i < log.size(); ++i) {
      if (log[i].signal_offset() != static_cast<int32_t>(i + 1) && Count(&counts_.gaps)) {
        ADD_FAILURE() << u << ": entry " << i + 1 << " has offset " << log[i].signal_offset();
      }
      if (++seen[{log[i].from().user(), log[i].id()}] == 2 && Count(&counts_.duplicated)) {
        ADD_FAILURE() << u << ": " << log[i].from().user() << "/" << log[i].id() << " stored twice";
      }
    }
  }
}

// Every acknowledged id once in its receiver's log; nothing unacknowledged;
// per conversation (sender, receiver) user_offsets 1..K in log order.
void DeliveryAudit::CheckReceiverLogs() {
  for (const auto& r : traffic_.receivers()) {
    std::map<std::string, int32_t> last;  // sender -> last user_offset seen
    for (const auto& e : logs_[r->user()]) {
      ++counts_.stored;
      EXPECT_EQ(e.signal_type(), kReceiver) << r->user() << ": " << Describe(e);
      receiver_copy_[{e.from().user(), e.id()}] = &e;
      int32_t& prev = last[e.from().user()];
      if (e.user_offset() != prev + 1 && Count(&counts_.gaps)) {
        ADD_FAILURE() << "conversation " << e.from().user() << "-" << r->user() << ": after user_offset " << prev
                      << " comes " << Describe(e);
      }
      prev = e.user_offset();
      auto it = acked_.find({e.from().user(), e.id()});
      if ((it == acked_.end() || it->second->receiver != r->user()) && Count(&counts_.unacked_stored)) {
        ADD_FAILURE() << r->user() << ": stored but never acknowledged to its sender: " << Describe(e);
      }
    }
  }
  for (const auto& [key, rec] : acked_) {
    if (receiver_copy_.count(key) == 0 && Count(&counts_.lost)) {
      ADD_FAILURE() << "acknowledged " << key.first << "/" << key.second << " (" << Describe(rec->ack) << ") is not in "
                    << rec->receiver << "'s log";
    }
  }
}

// One DEVICE copy per acknowledged id, at the offsets its ack named.
void DeliveryAudit::CheckSenderLogs() {
  for (const auto& s : traffic_.senders()) {
    for (const auto& e : logs_[s->user()]) {
      ++counts_.device_copies;
      auto it = acked_.find({s->user(), e.id()});
      if (it == acked_.end()) {
        if (Count(&counts_.unacked_stored)) ADD_FAILURE() << s->user() << ": DEVICE copy never acked: " << Describe(e);
        continue;
      }
      const auto& ack = it->second->ack;
      // Resends only: the first publish may be timestamped by the broker
      // before the client read its own clock.
      const auto& sent = it->second->send_ms;
      for (size_t k = 1; k < sent.size(); ++k) counts_.resends_after_stored += sent[k] > e.server_timestamp() ? 1 : 0;
      auto peer = receiver_copy_.find({s->user(), e.id()});
      const bool peer_differs = peer != receiver_copy_.end() && peer->second->user_offset() != e.user_offset();
      if ((e.signal_type() != kDevice || e.signal_offset() != ack.signal_offset() ||
           e.user_offset() != ack.user_offset() || peer_differs) &&
          Count(&counts_.ack_mismatch)) {
        ADD_FAILURE() << s->user() << ": stored " << Describe(e) << " but acknowledged " << Describe(ack);
      }
    }
  }
}

void DeliveryAudit::CheckFinalPulls() {
  for (const auto& r : traffic_.receivers()) {
    auto fp = final_pulls_.find(r->user());
    if (fp == final_pulls_.end()) {
      ADD_FAILURE() << r->user() << ": no final pull";
      continue;
    }
    std::map<Key, int> got;
    for (const auto& m : fp->second) {
      if (++got[{m.from().user(), m.id()}] == 2 && Count(&counts_.final_pull_twice)) {
        ADD_FAILURE() << r->user() << ": the final pull returned " << Describe(m) << " twice";
      }
    }
    for (const auto& [key, rec] : acked_) {
      if (rec->receiver == r->user() && got.count(key) == 0 && Count(&counts_.final_pull_missing)) {
        ADD_FAILURE() << r->user() << ": the final pull lacks acknowledged " << key.first << "/" << key.second;
      }
    }
    const size_t expected = traffic_.AckedTo(r->user());
    EXPECT_EQ(fp->second.size(), expected) << r->user() << ": entries of the final pull vs acknowledged to it";
  }
}

void DeliveryAudit::CheckNothingTakenBack() {
  for (const auto& r : traffic_.receivers()) {
    const auto& log = logs_[r->user()];
    for (const auto& [offset, m] : r->held()) {
      const bool same = offset >= 1 && static_cast<size_t>(offset) <= log.size() && log[offset - 1].id() == m.id() &&
                        log[offset - 1].from().user() == m.from().user();
      if (!same && Count(&counts_.taken_back)) {
        ADD_FAILURE() << r->user() << " got " << Describe(m) << " at offset " << offset
                      << ", which the store does not hold there";
      }
    }
  }
}

const DeliveryAudit::Counts& DeliveryAudit::Check() {
  CheckOffsets();
  CheckReceiverLogs();
  CheckSenderLogs();
  CheckFinalPulls();
  CheckNothingTakenBack();
  EXPECT_EQ(counts_.stored, counts_.acked) << "receiver copies vs acknowledged ids";
  EXPECT_EQ(counts_.device_copies, counts_.acked) << "DEVICE copies vs acknowledged ids";
  EXPECT_EQ(counts_.lost, 0u);
  EXPECT_EQ(counts_.duplicated, 0u);
  EXPECT_EQ(counts_.gaps, 0u);
  EXPECT_EQ(counts_.ack_mismatch, 0u);
  EXPECT_EQ(counts_.unacked_stored, 0u);
  EXPECT_EQ(counts_.final_pull_missing, 0u);
  EXPECT_EQ(counts_.final_pull_twice, 0u);
  EXPECT_EQ(counts_.taken_back, 0u);
  return counts_;
}

}  // namespace courier::it
