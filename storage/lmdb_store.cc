#include "lmdb_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>

#include "keys.h"
#include "schema.h"
#include "store.pb.h"

namespace courier::storage {
namespace {

using courier::store::v1::Entry;
using courier::v1::Message;

constexpr int kSignalTypeDevice = 2;
constexpr int kSignalTypeReceiver = 3;
constexpr uint64_t kMiB = 1024 * 1024;

bool ValidName(const std::string& s) { return !s.empty() && s.find('\0') == std::string::npos; }

// LMDB's key limit (511 bytes in Debian's build). A request whose keys do
// not fit fails alone, before it writes anything.
bool KeysFit(MDB_env* env, std::initializer_list<size_t> sizes) {
  const size_t max = static_cast<size_t>(mdb_env_get_maxkeysize(env));
  for (size_t n : sizes) {
    if (n > max) return false;
  }
  return true;
}

Status FromLmdbError(const LmdbError& e) {
  if (e.rc() == MDB_MAP_FULL || e.rc() == ENOSPC) return Status::Full(e.what());
  return Status::IoError(e.what());
}

// Reads a counter and stores counter + 1. Throws on overflow: offsets are
// int32 on the wire and must never wrap.
int32_t Increment(Txn& txn, MDB_dbi dbi, const std::string& key) {
  int32_t next = 1;
  if (auto v = txn.Get(dbi, key)) {
    auto cur = keys::DecodeCounter(*v);
    if (!cur) throw LmdbError(MDB_CORRUPTED, "counter has a bad length");
    if (*cur == INT32_MAX) throw LmdbError(MDB_BAD_VALSIZE, "offset counter exhausted");
    next = *cur + 1;
  }
  txn.Put(dbi, key, keys::EncodeCounter(next));
  return next;
}

void Decrement(Txn& txn, MDB_dbi dbi, const std::string& key) {
  if (auto v = txn.Get(dbi, key)) {
    auto cur = keys::DecodeCounter(*v);
    if (cur && *cur > 0) txn.Put(dbi, key, keys::EncodeCounter(*cur - 1));
  }
}

int32_t ReadCounter(const Txn& txn, MDB_dbi dbi, const std::string& key) {
  auto v = txn.Get(dbi, key);
  if (!v) return 0;
  auto cur = keys::DecodeCounter(*v);
  if (!cur) throw LmdbError(MDB_CORRUPTED, "counter has a bad length");
  return *cur;
}

std::optional<Entry> ReadEntry(const Txn& txn, MDB_dbi log, const std::string& user, int32_t offset) {
  auto v = txn.Get(log, keys::LogKey(user, offset));
  if (!v) return std::nullopt;
  Entry e;
  if (!e.ParseFromArray(v->data(), static_cast<int>(v->size()))) {
    throw LmdbError(MDB_CORRUPTED, "log entry does not parse");
  }
  return e;
}

void WriteEntry(Txn& txn, MDB_dbi log, const std::string& user, const Entry& e) {
  txn.Put(log, keys::LogKey(user, e.message().signal_offset()), e.SerializeAsString());
}

// Sets the requested flags; returns true when one of them was not set before.
bool MergeAck(Message* m, bool received, bool read) {
  auto* s = m->mutable_signal_ack_state();
  bool changed = (received && !s->received()) || (read && !s->read());
  if (received) s->set_received(true);
  if (read) s->set_read(true);
  return changed;
}

}  // namespace

LmdbStore::LmdbStore(const LmdbOptions& options)
    : options_(options), env_(std::make_unique<Env>()) {}
LmdbStore::~LmdbStore() = default;

Status LmdbStore::Open(const LmdbOptions& options, std::unique_ptr<LmdbStore>* out) {
  out->reset();
  if (options.path.empty()) return Status::Invalid("db_path is empty");
  struct stat st{};
  if (stat(options.path.c_str(), &st) != 0) {
    if (errno != ENOENT || mkdir(options.path.c_str(), 0700) != 0) {
      return Status::IoError("cannot create store directory " + options.path + ": " +
                             std::strerror(errno));
    }
  } else if (!S_ISDIR(st.st_mode)) {
    return Status::Invalid("store path " + options.path + " is not a directory");
  }
  std::unique_ptr<LmdbStore> store(new LmdbStore(options));
  try {
    Status s = store->OpenEnv();
    if (!s.ok()) return s;
  } catch (const LmdbError& e) {
    return Status::IoError("cannot open store at " + options.path + ": " + e.what());
  }
  *out = std::move(store);
  return Status::Ok();
}

Status LmdbStore::OpenEnv() {
  MDB_env* env = env_->get();
  Check(mdb_env_set_maxdbs(env, 16), "mdb_env_set_maxdbs");
  Check(mdb_env_set_mapsize(env, std::max(options_.map_size_mb * kMiB, map_size_)), "mdb_env_set_mapsize");
  unsigned flags = MDB_NOTLS;
  if (options_.sync == SyncMode::kOs) flags |= MDB_NOSYNC;
  Check(mdb_env_open(env, options_.path.c_str(), flags, 0600), "mdb_env_open");
  MDB_envinfo info{};
  Check(mdb_env_info(env, &info), "mdb_env_info");
  map_size_ = info.me_mapsize;  // may exceed the option when the map grew before
  stats_.map_size_bytes = map_size_;

  Txn txn(env, false);
  auto open = [&](const char* name) {
    MDB_dbi dbi;
    Check(mdb_dbi_open(txn.get(), name, MDB_CREATE, &dbi), name);
    return dbi;
  };
  tables_ = Tables{open("meta"), open("log"),     open("heads"),
                   open("dedup"), open("convs"), open("cursors"), open("undelivered")};
  auto version = txn.Get(tables_.meta, kSchemaVersionKey);
  if (!version) {
    MDB_stat st{};
    Check(mdb_stat(txn.get(), tables_.log, &st), "mdb_stat");
    if (st.ms_entries != 0) {
      return Status::Corruption("store at " + options_.path + " has entries but no schema version");
    }
    txn.Put(tables_.meta, kSchemaVersionKey, kSchemaVersion);
  } else if (*version != kSchemaVersion) {
    return Status::Corruption("store at " + options_.path + " has schema version " +
                              std::string(*version) + "; this build reads version " +
                              kSchemaVersion);
  }
  txn.Commit();
  return Status::Ok();
}

void LmdbStore::Reopen() {
  try {
    env_ = std::make_unique<Env>();
    if (OpenEnv().ok()) ++stats_.reopens;
  } catch (const LmdbError&) {
    // Still broken: the next Flush fails again and retries the reopen.
  }
}

void LmdbStore::Submit(Request request) { queue_.push_back(std::move(request)); }

bool LmdbStore::GrowMap() {
  uint64_t max = options_.max_map_size_mb * kMiB;
  if (map_size_ >= max) return false;
  uint64_t next = std::min(map_size_ * 2, max);
  if (mdb_env_set_mapsize(env_->get(), next) != MDB_SUCCESS) return false;
  map_size_ = next;
  stats_.map_size_bytes = next;
  ++stats_.map_grows;
  return true;
}

std::vector<Completion> LmdbStore::Flush() {
  std::vector<Completion> done;
  if (queue_.empty()) return done;
  Status failure;
  for (;;) {
    try {
      Txn txn(env_->get(), false);
      std::vector<Applied> applied;
      applied.reserve(queue_.size());
      for (const auto& request : queue_) applied.push_back(Apply(txn, request));
      auto t0 = std::chrono::steady_clock::now();
      txn.Commit();
      stats_.last_commit_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now() - t0).count();
      ++stats_.commits;
      stats_.requests += queue_.size();
      done.reserve(queue_.size());
      for (size_t i = 0; i < queue_.size(); ++i) {
        done.push_back(Completion{std::move(queue_[i]), std::move(applied[i].status),
                                  std::move(applied[i].result)});
      }
      queue_.clear();
      return done;
    } catch (const LmdbError& e) {
      // The transaction was aborted, so nothing of this batch is stored.
      if (e.rc() == MDB_MAP_FULL && GrowMap()) continue;
      failure = FromLmdbError(e);
      if (e.rc() == MDB_PANIC) Reopen();
      break;
    }
  }
  ++stats_.failed_batches;
  for (auto& request : queue_) done.push_back(Completion{std::move(request), failure, {}});
  queue_.clear();
  return done;
}

LmdbStore::Applied LmdbStore::Apply(Txn& txn, const Request& request) {
  Applied c;
  if (auto* r = std::get_if<AppendRequest>(&request)) {
    if (!ValidName(r->sender) || r->message.id().empty() || r->conversation.empty()) {
      c.status = Status::Invalid("append needs a sender, an id and a conversation");
      return c;
    }
    size_t longest_user = r->sender.size();
    for (const auto& u : r->receivers) {
      if (!ValidName(u) || u == r->sender) {
        c.status = Status::Invalid("bad receiver");
        return c;
      }
      longest_user = std::max(longest_user, u.size());
    }
    AppendResult out;
    const std::string dkey = keys::DedupKey(r->sender, r->message.id());
    if (!KeysFit(env_->get(), {dkey.size(), r->conversation.size(), longest_user + 5})) {
      c.status = Status::Invalid("names or id too long for the store's keys");
      return c;
    }
    if (auto v = txn.Get(tables_.dedup, dkey)) {
      auto offset = keys::DecodeCounter(*v);
      auto entry = offset ? ReadEntry(txn, tables_.log, r->sender, *offset) : std::nullopt;
      if (!entry) throw LmdbError(MDB_CORRUPTED, "dedup record points at no entry");
      out.duplicate = true;
      out.device_copy = std::move(*entry->mutable_message());
      c.result = std::move(out);
      return c;
    }
    if (r->max_undelivered > 0) {
      for (const auto& u : r->receivers) {
        const int32_t waiting = ReadCounter(txn, tables_.undelivered, u);
        if (waiting >= static_cast<int64_t>(r->max_undelivered)) {
          c.status = Status::Limit(u + " has " + std::to_string(waiting) + " undelivered entries");
          return c;
        }
      }
    }
    const int32_t user_offset = Increment(txn, tables_.convs, r->conversation);
    Entry device;
    *device.mutable_message() = r->message;
    device.mutable_message()->set_user_offset(user_offset);
    device.mutable_message()->set_signal_type(kSignalTypeDevice);
    device.mutable_message()->set_signal_offset(Increment(txn, tables_.heads, r->sender));
    const int32_t sender_offset = device.message().signal_offset();
    for (const auto& u : r->receivers) {
      Entry copy;
      *copy.mutable_message() = r->message;
      copy.mutable_message()->set_user_offset(user_offset);
      copy.mutable_message()->set_signal_type(kSignalTypeReceiver);
      copy.mutable_message()->set_signal_offset(Increment(txn, tables_.heads, u));
      copy.set_peer_user(r->sender);
      copy.set_peer_offset(sender_offset);
      WriteEntry(txn, tables_.log, u, copy);
      Increment(txn, tables_.undelivered, u);
      out.receivers.push_back(u);
      out.receiver_copies.push_back(copy.message());
    }
    if (r->receivers.size() == 1) {  // one peer: receipts update the sender copy too
      device.set_peer_user(r->receivers[0]);
      device.set_peer_offset(out.receiver_copies[0].signal_offset());
    }
    WriteEntry(txn, tables_.log, r->sender, device);
    txn.Put(tables_.dedup, dkey, keys::EncodeCounter(sender_offset));
    out.device_copy = device.message();
    c.result = std::move(out);
    return c;
  }

  if (auto* r = std::get_if<ReceiptRequest>(&request)) {
    if (!KeysFit(env_->get(), {r->user.size() + 1 + r->device.size(), r->user.size() + 5})) {
      c.status = Status::Invalid("names too long for the store's keys");
      return c;
    }
    auto entry = ReadEntry(txn, tables_.log, r->user, r->offset);
    if (r->offset <= 0 || !entry) {
      c.status = Status::NotFound("no entry at offset " + std::to_string(r->offset));
      return c;
    }
    const std::string ckey = keys::CursorKey(r->user, r->device);
    if (ReadCounter(txn, tables_.cursors, ckey) < r->offset) {
      txn.Put(tables_.cursors, ckey, keys::EncodeCounter(r->offset));
    }
    ReceiptResult out;
    if (entry->message().signal_type() == kSignalTypeReceiver) {
      const bool was_received = entry->message().signal_ack_state().received();
      out.changed = MergeAck(entry->mutable_message(), r->received, r->read);
      if (!was_received && entry->message().signal_ack_state().received()) {
        Decrement(txn, tables_.undelivered, r->user);
      }
      if (out.changed) WriteEntry(txn, tables_.log, r->user, *entry);
      if (!entry->peer_user().empty()) {
        out.peer_user = entry->peer_user();
        if (auto peer = ReadEntry(txn, tables_.log, entry->peer_user(), entry->peer_offset())) {
          if (MergeAck(peer->mutable_message(), r->received, r->read)) {
            WriteEntry(txn, tables_.log, entry->peer_user(), *peer);
          }
          out.peer = std::move(*peer->mutable_message());
        }
      }
    }
    out.entry = std::move(*entry->mutable_message());
    c.result = std::move(out);
    return c;
  }

  const auto& r = std::get<PullRequest>(request);
  if (!KeysFit(env_->get(), {r.user.size() + 1 + r.device.size(), r.user.size() + 5})) {
    c.status = Status::Invalid("names too long for the store's keys");
    return c;
  }
  PullResult out;
  out.head = ReadCounter(txn, tables_.heads, r.user);
  int32_t after = r.after >= 0 ? r.after : ReadCounter(txn, tables_.cursors, keys::CursorKey(r.user, r.device));
  if (after < out.head && r.limit > 0) {
    Cursor cur(txn, tables_.log);
    int32_t offset = 0;
    for (bool ok = cur.Seek(keys::LogKey(r.user, after + 1));
         ok && out.entries.size() < r.limit && keys::ParseLogKey(cur.key(), r.user, &offset);
         ok = cur.Next()) {
      Entry e;
      if (!e.ParseFromArray(cur.value().data(), static_cast<int>(cur.value().size()))) {
        throw LmdbError(MDB_CORRUPTED, "log entry does not parse");
      }
      out.entries.push_back(std::move(*e.mutable_message()));
    }
  }
  c.result = std::move(out);
  return c;
}

}  // namespace courier::storage
