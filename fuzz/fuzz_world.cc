#include "fuzz_world.h"

#include "reply.h"

#include <filesystem>
#include <set>
#include <variant>

#include "admin.h"
#include "invariants.h"

namespace courier::fuzz {

World* world = nullptr;

core::CoreOptions Variant(int v) {
  core::CoreOptions o;
  switch (v) {
    case 0:  // the plugin's defaults
      break;
    case 1:  // a multi-level prefix and small limits; alice and bob are admins
      o.topic_prefix = "chat/v1";
      o.max_payload_bytes = 64;
      o.max_id_bytes = 8;
      o.max_name_bytes = 16;
      o.default_pull_limit = 2;
      o.max_pull_limit = 3;
      o.max_clock_skew_s = 60;
      o.max_undelivered = 3;
      o.admin_users = {"alice", "bob"};
      break;
    case 2:  // the largest names and ids the plugin's options allow: store keys at their limit
      o.max_name_bytes = 254;
      o.max_id_bytes = 256;
      o.max_payload_bytes = 1 << 20;
      o.max_pull_limit = 100000;
      o.default_pull_limit = 100000;
      break;
    default:  // quotas on, short expiry, small groups, alice is an admin
      o.max_undelivered = 1;
      o.rate_limit_per_s = 1;
      o.rate_limit_burst = 2;
      o.default_expiry_s = 5;
      o.max_expiry_s = 60;
      o.max_group_members = 3;
      o.admin_users = {"alice"};
      break;
  }
  return o;
}

void OpenStore() {
  World& w = *world;
  w.store.reset();
  std::error_code ec;
  std::filesystem::remove_all(w.dir + "/db", ec);
  storage::LmdbOptions o;
  o.path = w.dir + "/db";
  o.map_size_mb = 4;
  o.max_map_size_mb = 64;  // bounds disk use; full means store_full and a new store
  o.sync = storage::SyncMode::kOs;
  storage::Status s = storage::LmdbStore::Open(o, &w.store);
  if (!s.ok()) Fail("cannot open the store: " + s.ToString());
  w.heads.clear();
  w.convs.clear();
  ++w.resets;
}

void Cleanup() {
  if (world == nullptr) return;
  world->store.reset();
  std::error_code ec;
  std::filesystem::remove_all(world->dir, ec);
}

namespace {

// A failed completion: only the failures valid core output may meet.
void CheckFailure(const storage::Completion& c, const storage::AppendRequest* append, bool group_op, bool* full) {
  using Code = storage::Status::Code;
  const std::string status = c.status.ToString();
  switch (c.status.code()) {
    case Code::kFull: *full = true; break;
    case Code::kNotFound:
      Check(std::holds_alternative<storage::ReceiptRequest>(c.request) || group_op,
            "not found for a request that names no offset or group: " + status);
      break;
    case Code::kForbidden: Check(group_op, "forbidden outside a group: " + status); break;
    case Code::kLimit: Check(append && append->max_undelivered > 0, "limit without a quota: " + status); break;
    case Code::kInvalid:
      // A device whose user and client id together are too long for a
      // push key gets invalid_push_registration; anything else would be
      // the error "internal".
      Check(std::holds_alternative<storage::PushRegisterRequest>(c.request),
            "the store found a request from valid core output invalid: " + status);
      break;
    default:
      // kIoError/kCorruption
      // "store_unavailable": none may come from client input.
      Fail("the store failed a request from valid core output: " + status);
  }
}

// An append against the model: the sender's and each receiver's next
// offset, the conversation's next user_offset.
void CheckAppendResult(const storage::AppendRequest* append, const storage::Completion& c) {
  const auto& res = std::get<storage::AppendResult>(c.result);
  if (res.refused != storage::ReplaceRefusal::kNone) {
    Check(res.receiver_copies.empty() && !res.duplicate, "a refused edit wrote copies");
  } else if (!res.duplicate) {
    World& w = *world;
    Check(res.device_copy.signal_offset() == ++w.heads[append->sender],
          "sender offset " + std::to_string(res.device_copy.signal_offset()) + " is not head+1 (" +
              std::to_string(w.heads[append->sender]) + ") for " + Printable(append->sender));
    Check(res.device_copy.user_offset() == ++w.convs[append->conversation],
          "user_offset is not the conversation's next");
    Check(res.device_copy.signal_type() == kSignalTypeDevice, "device copy without DEVICE type");
    Check(res.receiver_copies.size() == res.receivers.size(), "not one copy per receiver");
    if (append->group.empty()) Check(res.receivers == append->receivers, "copies for other receivers");
    for (size_t i = 0; i < res.receiver_copies.size(); ++i) {
      const auto& copy = res.receiver_copies[i];
      Check(res.receivers[i] != append->sender, "a RECEIVER copy for the sender");
      Check(copy.signal_offset() == ++w.heads[res.receivers[i]], "receiver offset is not head+1");
      Check(copy.signal_type() == kSignalTypeReceiver, "receiver copy without RECEIVER type");
      Check(copy.from().user() == append->sender, "receiver copy with a foreign from");
      Check(copy.user_offset() == res.device_copy.user_offset(), "copies with different user_offsets");
    }
  } else {
    Check(res.device_copy.from().user() == append->sender, "duplicate answered with another user's copy");
  }
}

void CheckReceiptResult(const storage::ReceiptRequest* q, const storage::Completion& c) {
  const auto& res = std::get<storage::ReceiptResult>(c.result);
  Check(res.entry.signal_offset() == q->offset, "receipt answered with another entry");
  Check(q->offset <= world->heads[q->user], "receipt found an entry beyond the head");
  if (res.peer) {
    Check(res.entry.signal_type() == kSignalTypeReceiver, "a receipt touched a peer of a non-RECEIVER copy");
    Check(res.peer->signal_type() == kSignalTypeDevice && res.peer->id() == res.entry.id() &&
              res.peer->from().user() == res.peer_user && res.entry.from().user() == res.peer_user,
          "a receipt touched a copy that is not its peer");
  }
  if (res.changed) Check(res.entry.signal_type() == kSignalTypeReceiver, "a receipt changed a DEVICE copy");
}

void CheckPullResult(const storage::PullRequest* pr, const storage::Completion& c) {
  const auto& res = std::get<storage::PullResult>(c.result);
  Check(res.head == world->heads[pr->user],
        "pull head " + std::to_string(res.head) + " is not the model's " + std::to_string(world->heads[pr->user]));
  Check(res.entries.size() <= pr->limit, "pull returned more than its limit");
  const int32_t after = pr->after >= 0 ? pr->after : 0;
  std::set<int32_t> seen;
  for (const auto& m : res.entries) {
    // A batch may be ordered by priority, but holds each offset once,
    // all after `after` and at most the head.
    Check(m.signal_offset() > after && m.signal_offset() <= res.head && seen.insert(m.signal_offset()).second,
          "pull returned offset " + std::to_string(m.signal_offset()) + " (after " + std::to_string(after) + ", head " +
              std::to_string(res.head) + ")");
  }
}

// One completion against the model of the store, then OnCompletion.
void Complete(const core::Engine& e, const storage::Completion& c, bool* full) {
  const std::string status = c.status.ToString();
  const auto* append = std::get_if<storage::AppendRequest>(&c.request);
  const bool group_op =
      (append && !append->group.empty()) || std::holds_alternative<storage::MembersRequest>(c.request);
  if (!c.status.ok()) {
    CheckFailure(c, append, group_op, full);
  } else if (append) {
    CheckAppendResult(append, c);
  } else if (auto* q = std::get_if<storage::ReceiptRequest>(&c.request)) {
    CheckReceiptResult(q, c);
  } else if (auto* pr = std::get_if<storage::PullRequest>(&c.request)) {
    CheckPullResult(pr, c);
  }
  const auto* admin = std::get_if<storage::AdminRequest>(&c.request);
  for (const auto& p : e.OnCompletion(c)) {
    CheckPublishShape(e, p);
    if (admin) {
      Check(p.topic == core::kAdminResponseTopic && p.client_id == core::ReplyOf(*admin).client_id,
            "an admin reply to someone else: " + Printable(p.topic) + " for '" + Printable(p.client_id) + "'");
    }
    Signal s;
    if (EndsWith(p.topic, "/events") && s.ParseFromString(p.payload) && s.has_error()) {
      CheckError(s, " (completion " + status + ")");
    }
  }
}

}  // namespace

void Flush() {
  World& w = *world;
  if (w.store->pending() == 0) return;
  bool full = false;
  auto done = w.store->Flush();
  Check(done.size() == w.pending.size(), "LMDB returned fewer completions than requests");
  for (const auto& c : done) {
    const core::Engine* e = w.pending.front();
    w.pending.pop_front();
    Complete(*e, c, &full);
  }
  Check(w.store->pending() == 0, "requests left after a flush");
  if (full) OpenStore();
}

}  // namespace courier::fuzz
