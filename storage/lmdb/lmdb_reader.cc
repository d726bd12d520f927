#include "lmdb_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "copy_message.h"
#include "keys.h"
#include "lmdb_env.h"
#include "lmdb_push.h"
#include "schema.h"
#include "tables.h"

namespace courier::storage {
namespace {

using courier::store::v1::Body;

// Splits "a\0b" at the first NUL.
std::pair<std::string, std::string> SplitNul(std::string_view key) {
  const auto nul = key.find('\0');
  if (nul == std::string_view::npos) return {std::string(key), {}};
  return {std::string(key.substr(0, nul)), std::string(key.substr(nul + 1))};
}

class LmdbReader final : public Reader {
 public:
  Status Open(const std::string& path);

  std::string schema_version() const override { return schema_; }
  std::vector<TableSize> Tables() override;
  Status ScanMessageSpace(MessageSpace* out) override;
  Status ScanPageSpace(PageSpace* out) override;
  int64_t StoredCopies() override;
  std::vector<Counter> Heads() override { return Counters(t_.heads); }
  std::vector<Counter> Conversations() override { return Counters(t_.convs); }
  std::vector<DeviceCursor> Cursors() override;
  std::vector<DedupEntry> DedupEntries() override;
  std::vector<StoredGroup> Groups() override;
  std::vector<AdminOpResult::PushReg> PushRegistrations(const std::string& user) override;
  std::vector<Counter> Undelivered() override;
  std::vector<StoredPushReg> PushRegs() override;
  std::vector<StoredPushDue> DuePushes() override;
  uint64_t BodySequence() override;
  std::vector<StoredEntry> Entries(const std::vector<std::pair<std::string, int32_t>>& from) override;

 private:
  // Calls fn(key, value) for each record of `dbi` while it returns true;
  // nothing when the table is missing. Swallows LMDB errors: a reader shows
  // what it could read.
  template <typename Fn>
  void Walk(MDB_dbi dbi, std::string_view from, Fn fn) const {
    if (dbi == kNoTable) return;
    try {
      Cursor cur(*txn_, dbi);
      for (bool ok = cur.Seek(from); ok && fn(cur.key(), cur.value()); ok = cur.Next()) {}
    } catch (const LmdbError&) {}
  }
  std::vector<Counter> Counters(MDB_dbi dbi) const;
  TableSize SizeOf(const std::string& name, MDB_dbi dbi) const;
  void CopiesOf(const std::string& user, int32_t first, std::vector<StoredEntry>* out) const;
  void LegacyLogOf(const std::string& user, int32_t first, std::vector<StoredEntry>* out) const;
  void ResolveReceivers(std::vector<StoredEntry>* entries) const;

  std::unique_ptr<Env> env_;
  std::unique_ptr<Txn> txn_;
  storage::Tables t_;
  MDB_dbi log_ = kNoTable;          // schema 1
  std::vector<std::string> names_;  // every table, from the main database
  std::string schema_;
  size_t last_page_ = 0;  // the snapshot's last page number in use
};

// LMDB's own pages: its freelist is the database handle 0, and every
// environment starts with 2 meta pages.
constexpr MDB_dbi kFreelist = 0;
constexpr int64_t kMetaPages = 2;

int64_t Pages(const TableSize& t) { return t.leaf_pages + t.branch_pages + t.overflow_pages; }

Status LmdbReader::Open(const std::string& path) {
  try {
    env_ = std::make_unique<Env>();
    Check(mdb_env_set_maxdbs(env_->get(), 64), "mdb_env_set_maxdbs");
    const int rc = mdb_env_open(env_->get(), path.c_str(), MDB_RDONLY | MDB_NOTLS, 0600);
    if (rc == ENOENT) return Status::NotFound(mdb_strerror(rc));
    Check(rc, "mdb_env_open");
    // The pages in use are known for the environment's latest commit only
    // (mdb_env_info): begin again while a writer commits in between, so that
    // they are the snapshot's.
    MDB_envinfo info{};
    for (int tries = 0; tries < 10; ++tries) {
      txn_ = std::make_unique<Txn>(env_->get(), true);
      Check(mdb_env_info(env_->get(), &info), "mdb_env_info");
      if (info.me_last_txnid == mdb_txn_id(txn_->get())) break;
    }
    last_page_ = info.me_last_pgno;
    MDB_dbi main;
    Check(mdb_dbi_open(txn_->get(), nullptr, 0, &main), "mdb_dbi_open");
    // The main database's keys are the names of the tables.
    Walk(main, {}, [&](std::string_view k, std::string_view) {
      names_.emplace_back(k);
      return true;
    });
    t_ = OpenTables(*txn_, /*create=*/false);
    if (std::find(names_.begin(), names_.end(), "log") != names_.end()) {
      Check(mdb_dbi_open(txn_->get(), "log", 0, &log_), "log");
    }
    std::optional<std::string_view> version;
    if (t_.meta != kNoTable) version = txn_->Get(t_.meta, kSchemaVersionKey);
    if (!version) return Status::Corruption("not a Courier store (no meta/schema_version)");
    schema_ = std::string(*version);
  } catch (const LmdbError& e) { return Status::IoError(e.what()); }
  return Status::Ok();
}

TableSize LmdbReader::SizeOf(const std::string& name, MDB_dbi dbi) const {
  TableSize s{.name = name};
  MDB_stat st{};
  if (mdb_stat(txn_->get(), dbi, &st) != MDB_SUCCESS) return s;
  s.records = static_cast<int64_t>(st.ms_entries);
  s.leaf_pages = static_cast<int64_t>(st.ms_leaf_pages);
  s.branch_pages = static_cast<int64_t>(st.ms_branch_pages);
  s.overflow_pages = static_cast<int64_t>(st.ms_overflow_pages);
  s.page_size = static_cast<int>(st.ms_psize);
  return s;
}

std::vector<TableSize> LmdbReader::Tables() {
  std::vector<TableSize> out;
  for (const auto& name : names_) {
    MDB_dbi dbi;
    if (mdb_dbi_open(txn_->get(), name.c_str(), 0, &dbi) != MDB_SUCCESS) continue;
    out.push_back(SizeOf(name, dbi));
  }
  return out;
}

Status LmdbReader::ScanMessageSpace(MessageSpace* out) {
  if (t_.bodies == kNoTable || t_.copies == kNoTable) return Status::NotFound("the store has no message tables");
  out->bodies.size = SizeOf("bodies", t_.bodies);
  out->copies.size = SizeOf("copies", t_.copies);
  Body b;
  int64_t n = 0;
  Walk(t_.bodies, {}, [&](std::string_view k, std::string_view v) {
    ++out->bodies.records;
    out->bodies.key_bytes += static_cast<int64_t>(k.size());
    out->bodies.value_bytes += static_cast<int64_t>(v.size());
    // The payload of every 16th body, scaled to all of them below.
    if (n++ % 16 == 0 && b.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
      ++out->sampled;
      out->payload_bytes += static_cast<int64_t>(b.message().payload().size());
    }
    return true;
  });
  if (out->sampled > 0) out->payload_bytes = out->payload_bytes * out->bodies.records / out->sampled;
  // copies: one key per user, one fixed-size value per copy.
  std::string last_key;
  Walk(t_.copies, {}, [&](std::string_view k, std::string_view v) {
    if (last_key != k) {
      last_key = std::string(k);
      out->copies.key_bytes += static_cast<int64_t>(k.size());
    }
    ++out->copies.records;
    out->copies.value_bytes += static_cast<int64_t>(v.size());
    return true;
  });
  return Status::Ok();
}

Status LmdbReader::ScanPageSpace(PageSpace* out) {
  PageSpace p;
  MDB_dbi main;
  if (int rc = mdb_dbi_open(txn_->get(), nullptr, 0, &main); rc != MDB_SUCCESS) {
    return Status::IoError(std::string("mdb_dbi_open: ") + mdb_strerror(rc));
  }
  p.catalog = SizeOf("Main DB", main);
  p.page_size = p.catalog.page_size;
  p.pages_used = static_cast<int64_t>(last_page_) + 1;
  p.tables = Tables();
  p.freelist_pages = Pages(SizeOf("freelist", kFreelist));
  // Each freelist record is a list of page numbers, its length first.
  Walk(kFreelist, {}, [&](std::string_view, std::string_view v) {
    size_t n = 0;
    if (v.size() >= sizeof n) std::memcpy(&n, v.data(), sizeof n);
    p.free_pages += static_cast<int64_t>(n);
    return true;
  });
  // LMDB's statistics count a MDB_DUPSORT table's main tree only: its
  // sub-databases are the pages in use that nothing else claims.
  int64_t claimed = kMetaPages + Pages(p.catalog) + p.freelist_pages + p.free_pages;
  for (const auto& t : p.tables) {
    claimed += Pages(t);
    MDB_dbi dbi;
    unsigned flags = 0;
    if (mdb_dbi_open(txn_->get(), t.name.c_str(), 0, &dbi) == MDB_SUCCESS &&
        mdb_dbi_flags(txn_->get(), dbi, &flags) == MDB_SUCCESS && (flags & MDB_DUPSORT)) {
      p.nested_in += (p.nested_in.empty() ? "" : ", ") + t.name;
    }
  }
  p.nested_pages = p.pages_used - claimed;
  *out = std::move(p);
  return Status::Ok();
}

int64_t LmdbReader::StoredCopies() {
  if (t_.copies != kNoTable && t_.bodies != kNoTable) return SizeOf("copies", t_.copies).records;
  if (log_ != kNoTable) return SizeOf("log", log_).records;  // schema 1: one log entry per copy
  return 0;
}

std::vector<Counter> LmdbReader::Counters(MDB_dbi dbi) const {
  std::vector<Counter> out;
  Walk(dbi, {}, [&](std::string_view k, std::string_view v) {
    out.push_back(Counter{std::string(k), keys::DecodeCounter(v).value_or(0)});
    return true;
  });
  return out;
}

std::vector<DeviceCursor> LmdbReader::Cursors() {
  std::vector<DeviceCursor> out;
  Walk(t_.cursors, {}, [&](std::string_view k, std::string_view v) {
    auto [user, device] = SplitNul(k);
    out.push_back(DeviceCursor{user, device, keys::DecodeCounter(v).value_or(0)});
    return true;
  });
  return out;
}

std::vector<DedupEntry> LmdbReader::DedupEntries() {
  std::vector<DedupEntry> out;
  Walk(t_.dedup, {}, [&](std::string_view k, std::string_view v) {
    auto [sender, id] = SplitNul(k);
    out.push_back(DedupEntry{sender, id, keys::DecodeCounter(v).value_or(0)});
    return true;
  });
  return out;
}

std::vector<StoredGroup> LmdbReader::Groups() {
  std::vector<StoredGroup> out;
  Walk(t_.groups, {}, [&](std::string_view k, std::string_view v) {
    StoredGroup g{std::string(k), courier::store::v1::Group()};
    if (!g.group->ParseFromArray(v.data(), static_cast<int>(v.size()))) g.group.reset();
    out.push_back(std::move(g));
    return true;
  });
  return out;
}

std::vector<AdminOpResult::PushReg> LmdbReader::PushRegistrations(const std::string& user) {
  if (t_.push_regs == kNoTable || t_.push_due == kNoTable) return {};
  try {
    return ListPushRegs(*txn_, {t_.push_regs, t_.push_due}, user);
  } catch (const LmdbError&) { return {}; }
}

std::vector<Counter> LmdbReader::Undelivered() {
  std::vector<Counter> out = Counters(t_.undelivered);
  std::erase_if(out, [](const Counter& c) { return c.value == 0; });
  return out;
}

std::vector<StoredPushReg> LmdbReader::PushRegs() {
  std::vector<StoredPushReg> out;
  Walk(t_.push_regs, {}, [&](std::string_view k, std::string_view v) {
    auto [user, device] = SplitNul(k);
    StoredPushReg r{user, device, courier::store::v1::PushReg()};
    if (!r.reg->ParseFromArray(v.data(), static_cast<int>(v.size()))) r.reg.reset();
    out.push_back(std::move(r));
    return true;
  });
  return out;
}

std::vector<StoredPushDue> LmdbReader::DuePushes() {
  std::vector<StoredPushDue> out;
  Walk(t_.push_due, {}, [&](std::string_view k, std::string_view v) {
    PushKey key;
    StoredPushDue d;
    if (ParseDueKey(k, &key)) {
      d = StoredPushDue{key.user, key.device, key.offset, courier::store::v1::PushDue()};
      if (!d.due->ParseFromArray(v.data(), static_cast<int>(v.size()))) d.due.reset();
    } else {
      d.user = std::string(k);  // a key of another shape: shown whole, without a record
    }
    out.push_back(std::move(d));
    return true;
  });
  return out;
}

uint64_t LmdbReader::BodySequence() {
  if (t_.meta == kNoTable) return 0;
  try {
    auto v = txn_->Get(t_.meta, kBodySeqKey);
    return v ? keys::DecodeSeq(*v).value_or(0) : 0;
  } catch (const LmdbError&) { return 0; }
}

std::vector<StoredEntry> LmdbReader::Entries(const std::vector<std::pair<std::string, int32_t>>& from) {
  std::vector<StoredEntry> out;
  for (const auto& [user, first] : from) {
    if (t_.copies != kNoTable && t_.bodies != kNoTable) {
      CopiesOf(user, first, &out);
    } else if (log_ != kNoTable) {
      LegacyLogOf(user, first, &out);
    }
  }
  ResolveReceivers(&out);
  return out;
}

void LmdbReader::CopiesOf(const std::string& user, int32_t first, std::vector<StoredEntry>* out) const {
  Walk(t_.copies, user, [&](std::string_view k, std::string_view v) {
    if (k != user) return false;  // the next user's
    StoredEntry e{.user = user};
    auto copy = keys::DecodeCopy(v);
    if (!copy) {
      e.undecodable_bytes = v.size();
      out->push_back(std::move(e));
      return true;
    }
    if (copy->offset < first) return true;
    e.offset = copy->offset;
    e.body_id = copy->seq;
    e.device = copy->device;
    e.expired = copy->expired;
    e.received = copy->received;
    e.read = copy->read;
    if (auto bytes = txn_->Get(t_.bodies, keys::BodyKey(copy->seq))) {
      Body b;
      if (b.ParseFromArray(bytes->data(), static_cast<int>(bytes->size()))) e.body = std::move(b);
    }
    if (e.body) {
      e.message = MessageOfCopy(*e.body, *copy);
      if (!copy->device) {
        e.peer_user = SenderOf(*e.body);
        e.peer_offset = e.body->sender_offset();
      }
    }
    out->push_back(std::move(e));
    return true;
  });
}

void LmdbReader::LegacyLogOf(const std::string& user, int32_t first, std::vector<StoredEntry>* out) const {
  Walk(log_, keys::LogKey(user, first), [&](std::string_view k, std::string_view v) {
    StoredEntry e{.user = user};
    if (!keys::ParseLogKey(k, user, &e.offset)) return false;  // the next user's
    courier::store::v1::Entry entry;
    if (!entry.ParseFromArray(v.data(), static_cast<int>(v.size()))) {
      e.undecodable_bytes = v.size();
    } else {
      e.message = entry.message();
      e.peer_user = entry.peer_user();
      e.peer_offset = entry.peer_offset();
      e.expired = entry.expired();
      e.legacy = std::move(entry);
    }
    out->push_back(std::move(e));
    return true;
  });
}

// A DEVICE copy of a 1:1 message does not store its receiver's offset; one
// pass over every copy finds it for the entries asked for.
void LmdbReader::ResolveReceivers(std::vector<StoredEntry>* entries) const {
  std::map<uint64_t, std::pair<std::string, int32_t>> receiver_of;  // body -> receiver's copy
  for (const auto& e : *entries) {
    if (e.device && e.body && e.body->recipients() == 0 && !e.body->message().to().user().empty() &&
        e.body->message().to().user() != e.user) {
      receiver_of[e.body_id] = {};
    }
  }
  if (receiver_of.empty()) return;
  Walk(t_.copies, {}, [&](std::string_view k, std::string_view v) {
    auto copy = keys::DecodeCopy(v);
    if (copy && !copy->device) {
      if (auto it = receiver_of.find(copy->seq); it != receiver_of.end()) it->second = {std::string(k), copy->offset};
    }
    return true;
  });
  for (auto& e : *entries) {
    if (!e.device || !e.body) continue;
    if (auto it = receiver_of.find(e.body_id); it != receiver_of.end() && !it->second.first.empty()) {
      e.peer_user = it->second.first;
      e.peer_offset = it->second.second;
    }
  }
}

}  // namespace

Status OpenLmdbReader(const std::string& path, std::unique_ptr<Reader>* out) {
  out->reset();
  auto reader = std::make_unique<LmdbReader>();
  Status s = reader->Open(path);
  if (s.ok()) *out = std::move(reader);
  return s;
}

}  // namespace courier::storage
