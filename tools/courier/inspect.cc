// `courier inspect DIR`: a read-only dump of a Courier store.
//
// Opens the LMDB environment with MDB_RDONLY through the raw LMDB C API (one
// read transaction: a consistent snapshot, safe while the broker writes),
// decodes keys with storage/keys.h and copies with storage/copy_message.h
// (schema 2; a schema 1 store's `log` of courier.store.v1.Entry is still
// printed). Tables (docs/architecture.md):
//   meta     schema_version -> "2", body_seq
//   bodies   seq(be48) -> Body (the message, stored once)
//   copies   user -> fixed-size copy records (offset, body seq, flags), dupsort
//   heads    user -> be32
//   dedup    sender \0 id -> be32 (the sender's offset)
//   convs    conversation key -> be32 (its highest user_offset)
//   cursors  user \0 device -> be32
// Other tables (groups, indexes) are listed with their size; a `groups`
// table is decoded when the schema has a `Group` record.
#include <lmdb.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/reflection.h>

#include "commands.h"
#include "copy_message.h"
#include "keys.h"
#include "print.h"
#include "store.pb.h"

namespace courier::cli {
namespace {

namespace keys = ::courier::storage::keys;
namespace pb = ::google::protobuf;

std::string_view view(const MDB_val& v) {
  return {static_cast<const char*>(v.mv_data), v.mv_size};
}

MDB_val val(std::string_view s) { return MDB_val{s.size(), const_cast<char*>(s.data())}; }

// Splits "a\0b" at the first NUL.
std::pair<std::string_view, std::string_view> split_nul(std::string_view key) {
  const auto nul = key.find('\0');
  if (nul == std::string_view::npos) return {key, {}};
  return {key.substr(0, nul), key.substr(nul + 1)};
}

std::string counter_text(std::string_view bytes) {
  if (auto v = keys::DecodeCounter(bytes)) return std::to_string(*v);
  return quote(bytes);
}

// A conversation key: its NUL-separated parts joined with ':'.
std::string conv_text(std::string_view key) {
  std::string out(key);
  std::replace(out.begin(), out.end(), '\0', ':');
  return token(out);
}

client::AckState ack_of(const v1::SignalAckState& a) {
  return {.sent = a.send(), .received = a.received() || a.read(), .read = a.read()};
}

client::Message to_client(const v1::Message& m) {
  client::Message out;
  out.id = m.id();
  out.offset = m.signal_offset();
  out.user_offset = m.user_offset();
  out.kind = static_cast<client::Kind>(m.signal_type());
  out.from = {m.from().user(), m.from().device(), m.from().group()};
  out.to = {m.to().user(), m.to().device(), m.to().group()};
  out.payload = m.payload();
  out.encryption_type = m.encryption_type();
  out.transient = m.transient();
  out.replaces = m.replaces();
  out.recall = m.recall();
  out.edited = m.edited();
  out.recalled = m.recalled();
  out.state = ack_of(m.signal_ack_state());
  return out;
}

// Fields of a record beyond the ones printed explicitly, when set:
// ` name=value` each (scalars only), via reflection so that fields added
// to the schema later show up too.
std::string extra_fields(const pb::Message& msg, int first_number) {
  std::string out;
  const pb::Descriptor* d = msg.GetDescriptor();
  const pb::Reflection* r = msg.GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    if (f->number() < first_number || f->is_repeated() || !r->HasField(msg, f)) continue;
    std::string v;
    switch (f->cpp_type()) {
      case pb::FieldDescriptor::CPPTYPE_INT32: v = std::to_string(r->GetInt32(msg, f)); break;
      case pb::FieldDescriptor::CPPTYPE_INT64: v = std::to_string(r->GetInt64(msg, f)); break;
      case pb::FieldDescriptor::CPPTYPE_UINT32: v = std::to_string(r->GetUInt32(msg, f)); break;
      case pb::FieldDescriptor::CPPTYPE_UINT64: v = std::to_string(r->GetUInt64(msg, f)); break;
      case pb::FieldDescriptor::CPPTYPE_BOOL: v = r->GetBool(msg, f) ? "true" : "false"; break;
      case pb::FieldDescriptor::CPPTYPE_STRING: v = token(r->GetString(msg, f)); break;
      default: continue;
    }
    out += fmt::format(" {}={}", f->name(), v);
  }
  return out;
}

// `entry user=U offset=N user_offset=.. from=.. to=.. kind=.. id=.. [...] peer=U/N "payload"`
std::string entry_text(std::string_view user, int32_t offset, const v1::Message& m, const std::string& peer,
                       const std::string& extras) {
  std::string line = format_message(to_client(m));
  // format_message: `message offset=N ... "payload"`; re-head it and put the
  // store's own fields before the payload.
  const std::string head = "message ";
  std::string body = line.substr(head.size());
  const auto payload_at = body.rfind(" \"");
  std::string payload;
  if (payload_at != std::string::npos) {
    payload = body.substr(payload_at);
    body = body.substr(0, payload_at);
  }
  if (m.signal_offset() != offset) body += fmt::format(" key_offset={}", offset);
  return fmt::format("entry user={} {}{}{}{}", token(user), body, peer, extras, payload);
}

std::string peer_text(std::string_view user, int32_t offset) {
  return fmt::format(" peer={}/{}", token(user), offset);
}

// A schema 1 log record.
std::string entry_line(std::string_view user, int32_t offset, std::string_view bytes) {
  store::v1::Entry e;
  if (!e.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return fmt::format("entry user={} offset={} undecodable bytes={}", token(user), offset,
                       bytes.size());
  }
  std::string peer;
  if (!e.peer_user().empty()) peer = peer_text(e.peer_user(), e.peer_offset());
  return entry_text(user, offset, e.message(), peer, extra_fields(e, 4));
}

class Store {
 public:
  ~Store() {
    if (txn_) mdb_txn_abort(txn_);
    if (env_) mdb_env_close(env_);
  }

  // Empty on success, else what failed.
  std::string Open(const std::string& path) {
    int rc = mdb_env_create(&env_);
    if (rc == MDB_SUCCESS) rc = mdb_env_set_maxdbs(env_, 64);
    if (rc == MDB_SUCCESS) rc = mdb_env_open(env_, path.c_str(), MDB_RDONLY, 0600);
    if (rc != MDB_SUCCESS) return mdb_strerror(rc);
    rc = mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn_);
    if (rc != MDB_SUCCESS) return mdb_strerror(rc);
    MDB_dbi main;
    rc = mdb_dbi_open(txn_, nullptr, 0, &main);
    if (rc != MDB_SUCCESS) return mdb_strerror(rc);
    // The main database's keys are the names of the tables.
    Walk(main, {}, [&](std::string_view k, std::string_view) {
      tables_.emplace_back(k);
      return true;
    });
    return {};
  }

  bool Has(const std::string& table) const {
    return std::find(tables_.begin(), tables_.end(), table) != tables_.end();
  }
  const std::vector<std::string>& tables() const { return tables_; }

  std::optional<MDB_dbi> Table(const std::string& name) {
    if (!Has(name)) return std::nullopt;
    MDB_dbi dbi;
    if (mdb_dbi_open(txn_, name.c_str(), 0, &dbi) != MDB_SUCCESS) return std::nullopt;
    return dbi;
  }

  size_t Entries(MDB_dbi dbi) {
    MDB_stat st{};
    return mdb_stat(txn_, dbi, &st) == MDB_SUCCESS ? st.ms_entries : 0;
  }

  std::optional<std::string> Get(MDB_dbi dbi, std::string_view key) {
    MDB_val k = val(key), v{};
    if (mdb_get(txn_, dbi, &k, &v) != MDB_SUCCESS) return std::nullopt;
    return std::string(view(v));
  }

  // Calls fn(key, value) from the first key >= `from` on, while it returns true.
  template <typename Fn>
  void Walk(MDB_dbi dbi, std::string_view from, Fn fn) {
    MDB_cursor* c = nullptr;
    if (mdb_cursor_open(txn_, dbi, &c) != MDB_SUCCESS) return;
    MDB_val k = val(from), v{};
    int rc = mdb_cursor_get(c, &k, &v, from.empty() ? MDB_FIRST : MDB_SET_RANGE);
    while (rc == MDB_SUCCESS && fn(view(k), view(v))) rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
    mdb_cursor_close(c);
  }

 private:
  MDB_env* env_ = nullptr;
  MDB_txn* txn_ = nullptr;
  std::vector<std::string> tables_;
};

// Prints the groups table when the schema knows a Group record.
void print_groups(Store& s, MDB_dbi dbi, const std::string& only_user) {
  const pb::Descriptor* d =
      store::v1::Entry::descriptor()->file()->FindMessageTypeByName("Group");
  pb::DynamicMessageFactory factory;
  s.Walk(dbi, {}, [&](std::string_view k, std::string_view v) {
    std::string line = fmt::format("group name={}", token(k));
    if (d != nullptr) {
      std::unique_ptr<pb::Message> g(factory.GetPrototype(d)->New());
      if (g->ParseFromArray(v.data(), static_cast<int>(v.size()))) {
        const pb::FieldDescriptor* members = d->FindFieldByName("members");
        std::vector<std::string> names;
        if (members != nullptr && members->is_repeated() &&
            members->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
          const pb::Reflection* r = g->GetReflection();
          for (int i = 0; i < r->FieldSize(*g, members); ++i) {
            names.push_back(r->GetRepeatedString(*g, members, i));
          }
        }
        if (!only_user.empty() && std::find(names.begin(), names.end(), only_user) == names.end()) {
          return true;
        }
        std::string list;
        for (const auto& n : names) list += (list.empty() ? "" : ",") + n;
        line += fmt::format(" members={}", token(list)) + extra_fields(*g, 2);
      }
    } else if (!only_user.empty()) {
      return true;
    }
    emit(line);
    return true;
  });
}

// Schema 2: each user's copies, rebuilt from their bodies. A DEVICE copy of
// a 1:1 message does not store its receiver's offset; one pass over the
// receivers' copies finds it for the copies printed.
template <typename FirstOf>
void print_copies(Store& s, MDB_dbi copies, MDB_dbi bodies,
                  const std::vector<std::pair<std::string, int32_t>>& users, FirstOf first_of) {
  struct Row {
    std::string user;
    storage::keys::CopyRecord copy;
    std::optional<store::v1::Body> body;
  };
  std::vector<Row> rows;
  for (const auto& [user, head] : users) {
    const int32_t first = first_of(head);
    s.Walk(copies, user, [&](std::string_view k, std::string_view v) {
      if (k != user) return false;  // the next user's
      auto copy = storage::keys::DecodeCopy(v);
      if (!copy) {
        emit(fmt::format("entry user={} undecodable copy bytes={}", token(user), v.size()));
        return true;
      }
      if (copy->offset < first) return true;
      Row row{user, *copy, std::nullopt};
      if (auto bytes = s.Get(bodies, storage::keys::BodyKey(copy->seq))) {
        store::v1::Body b;
        if (b.ParseFromArray(bytes->data(), static_cast<int>(bytes->size()))) row.body = std::move(b);
      }
      rows.push_back(std::move(row));
      return true;
    });
  }
  std::map<uint64_t, std::pair<std::string, int32_t>> receiver_of;  // body seq -> receiver's copy
  for (const auto& r : rows) {
    if (r.copy.device && r.body && r.body->recipients() == 0 && !r.body->message().to().user().empty() &&
        r.body->message().to().user() != r.user) {
      receiver_of[r.copy.seq] = {};
    }
  }
  if (!receiver_of.empty()) {
    s.Walk(copies, {}, [&](std::string_view k, std::string_view v) {
      auto copy = storage::keys::DecodeCopy(v);
      if (copy && !copy->device) {
        if (auto it = receiver_of.find(copy->seq); it != receiver_of.end()) it->second = {std::string(k), copy->offset};
      }
      return true;
    });
  }
  for (const auto& r : rows) {
    if (!r.body) {
      emit(fmt::format("entry user={} offset={} body={} missing", token(r.user), r.copy.offset, r.copy.seq));
      continue;
    }
    std::string peer;
    if (!r.copy.device) {
      peer = peer_text(storage::SenderOf(*r.body), r.body->sender_offset());
    } else if (auto it = receiver_of.find(r.copy.seq); it != receiver_of.end() && !it->second.first.empty()) {
      peer = peer_text(it->second.first, it->second.second);
    }
    std::string extras = fmt::format(" body={}", r.copy.seq) + (r.copy.expired ? " expired=true" : "") +
                         extra_fields(*r.body, 3);
    emit(entry_text(r.user, r.copy.offset, storage::MessageOfCopy(*r.body, r.copy), peer, extras));
  }
}

}  // namespace

int run_inspect(const InspectOptions& o) {
  Store s;
  if (std::string err = s.Open(o.path); !err.empty()) {
    emit_err(fmt::format("error: cannot open store {}: {}", o.path, err));
    return kExitStore;
  }
  auto meta = s.Table("meta");
  std::optional<std::string> schema;
  if (meta) schema = s.Get(*meta, "schema_version");
  if (!schema) {
    emit_err(fmt::format("error: {} is not a Courier store (no meta/schema_version)", o.path));
    return kExitStore;
  }
  emit(fmt::format("store path={} schema={}", token(o.path), token(*schema)));
  for (const auto& t : s.tables()) {
    if (auto dbi = s.Table(t)) emit(fmt::format("table name={} entries={}", token(t), s.Entries(*dbi)));
  }
  const bool all = o.user.empty();

  // heads: also the list of users whose logs to print.
  std::vector<std::pair<std::string, int32_t>> users;
  if (auto heads = s.Table("heads")) {
    s.Walk(*heads, {}, [&](std::string_view k, std::string_view v) {
      if (all || k == o.user) {
        emit(fmt::format("head user={} offset={}", token(k), counter_text(v)));
        users.emplace_back(std::string(k), keys::DecodeCounter(v).value_or(0));
      }
      return true;
    });
  }
  if (auto cursors = s.Table("cursors")) {
    s.Walk(*cursors, {}, [&](std::string_view k, std::string_view v) {
      auto [user, device] = split_nul(k);
      if (all || user == o.user) {
        emit(fmt::format("cursor user={} device={} offset={}", token(user), token(device),
                         counter_text(v)));
      }
      return true;
    });
  }
  if (auto convs = s.Table("convs")) {
    s.Walk(*convs, {}, [&](std::string_view k, std::string_view v) {
      // Only conversations the user is part of: one of its NUL-separated parts.
      bool mine = all;
      for (std::string_view rest = k; !mine && !rest.empty();) {
        auto [part, tail] = split_nul(rest);
        mine = part == o.user;
        if (tail.data() == nullptr || tail.empty()) break;
        rest = tail;
      }
      if (mine) emit(fmt::format("conv key={} offset={}", conv_text(k), counter_text(v)));
      return true;
    });
  }
  if (auto dedup = s.Table("dedup")) {
    s.Walk(*dedup, {}, [&](std::string_view k, std::string_view v) {
      auto [sender, id] = split_nul(k);
      if (all || sender == o.user) {
        emit(fmt::format("dedup sender={} id={} offset={}", token(sender), token(id),
                         counter_text(v)));
      }
      return true;
    });
  }
  if (auto groups = s.Table("groups")) print_groups(s, *groups, o.user);

  if (o.entries) {
    // The first offset to print of a user's log.
    auto first_of = [&](int32_t head) {
      return o.limit ? static_cast<int32_t>(std::max<int64_t>(1, head - *o.limit + 1)) : 1;
    };
    if (o.limit && *o.limit == 0) {
      // nothing to print
    } else if (auto copies = s.Table("copies"), bodies = s.Table("bodies"); copies && bodies) {
      print_copies(s, *copies, *bodies, users, first_of);
    } else if (auto log = s.Table("log")) {
      for (const auto& [user, head] : users) {
        s.Walk(*log, keys::LogKey(user, first_of(head)), [&](std::string_view k, std::string_view v) {
          int32_t offset = 0;
          if (!keys::ParseLogKey(k, user, &offset)) return false;  // the next user's
          emit(entry_line(user, offset, v));
          return true;
        });
      }
    }
  }
  return kExitOk;
}

}  // namespace courier::cli
