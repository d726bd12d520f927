// `courier inspect DIR`: a read-only dump of a Courier store.
//
// Reads through storage's read-only Reader (storage/api/reader.h): one
// consistent snapshot, safe while the broker writes. Prints the store's
// tables with their sizes, heads, cursors, conversation counters, dedup
// entries, groups and (unless --no-entries) every entry of the logs, with
// the fields of the stored records beyond those a message shows (a schema 1
// store's entries too).
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
#include "lmdb_reader.h"
#include "pg_reader.h"
#include "pg_store.h"
#include "print.h"
#include "reader.h"
#include "store.pb.h"

namespace courier::cli {
namespace {

namespace pb = ::google::protobuf;

// Splits "a\0b" at the first NUL.
std::pair<std::string_view, std::string_view> split_nul(std::string_view key) {
  const auto nul = key.find('\0');
  if (nul == std::string_view::npos) return {key, {}};
  return {key.substr(0, nul), key.substr(nul + 1)};
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

std::string peer_text(std::string_view user, int32_t offset) { return fmt::format(" peer={}/{}", token(user), offset); }

// A group and its members, when the group is `only_user`'s (or all).
void print_group(const storage::StoredGroup& sg, const std::string& only_user) {
  std::string line = fmt::format("group name={}", token(sg.name));
  if (sg.group) {
    const auto& m = sg.group->members();
    if (!only_user.empty() && std::find(m.begin(), m.end(), only_user) == m.end()) return;
    std::string list;
    for (const auto& n : m) list += (list.empty() ? "" : ",") + n;
    line += fmt::format(" members={}", token(list)) + extra_fields(*sg.group, 2);
  } else if (!only_user.empty()) {
    return;
  }
  emit(line);
}

void print_entry(const storage::StoredEntry& e) {
  if (e.undecodable_bytes > 0) {
    emit(e.legacy || e.offset != 0
             ? fmt::format("entry user={} offset={} undecodable bytes={}", token(e.user), e.offset, e.undecodable_bytes)
             : fmt::format("entry user={} undecodable copy bytes={}", token(e.user), e.undecodable_bytes));
    return;
  }
  const std::string peer = e.peer_user.empty() ? std::string() : peer_text(e.peer_user, e.peer_offset);
  if (e.legacy) {
    emit(entry_text(e.user, e.offset, e.message, peer, extra_fields(*e.legacy, 4)));
    return;
  }
  if (!e.body) {
    emit(fmt::format("entry user={} offset={} body={} missing", token(e.user), e.offset, e.body_id));
    return;
  }
  std::string extras =
      fmt::format(" body={}", e.body_id) + (e.expired ? " expired=true" : "") + extra_fields(*e.body, 3);
  emit(entry_text(e.user, e.offset, e.message, peer, extras));
}

// Whether `user` is one of a conversation key's NUL-separated parts.
bool in_conversation(std::string_view key, const std::string& user) {
  for (std::string_view rest = key; !rest.empty();) {
    auto [part, tail] = split_nul(rest);
    if (part == user) return true;
    if (tail.data() == nullptr || tail.empty()) break;
    rest = tail;
  }
  return false;
}

}  // namespace

int run_inspect(const InspectOptions& o) {
  std::unique_ptr<storage::Reader> s;
  if (!o.pg.empty()) {
    const std::string where = storage::PgStore::Describe(o.pg);
    if (auto status = storage::OpenPgReader(o.pg, &s); !status.ok()) {
      emit_err(fmt::format("error: cannot open postgres store {}: {}", where, status.message()));
      return kExitStore;
    }
    emit(fmt::format("store pg={} schema={}", token(where), token(s->schema_version())));
  } else if (auto status = storage::OpenLmdbReader(o.path, &s); !status.ok()) {
    if (status.code() == storage::Status::Code::kCorruption) {
      emit_err(fmt::format("error: {} is not a Courier store (no meta/schema_version)", o.path));
    } else {
      emit_err(fmt::format("error: cannot open store {}: {}", o.path, status.message()));
    }
    return kExitStore;
  }
  if (o.pg.empty()) emit(fmt::format("store path={} schema={}", token(o.path), token(s->schema_version())));
  for (const auto& t : s->Tables()) emit(fmt::format("table name={} entries={}", token(t.name), t.records));
  const bool all = o.user.empty();

  // heads: also the list of users whose logs to print.
  std::vector<std::pair<std::string, int32_t>> users;
  for (const auto& h : s->Heads()) {
    if (all || h.key == o.user) {
      emit(fmt::format("head user={} offset={}", token(h.key), h.value));
      users.emplace_back(h.key, h.value);
    }
  }
  for (const auto& c : s->Cursors()) {
    if (all || c.user == o.user) {
      emit(fmt::format("cursor user={} device={} offset={}", token(c.user), token(c.device), c.offset));
    }
  }
  for (const auto& c : s->Conversations()) {
    // Only conversations the user is part of.
    if (all || in_conversation(c.key, o.user)) emit(fmt::format("conv key={} offset={}", conv_text(c.key), c.value));
  }
  for (const auto& d : s->DedupEntries()) {
    if (all || d.sender == o.user) {
      emit(fmt::format("dedup sender={} id={} offset={}", token(d.sender), token(d.id), d.offset));
    }
  }
  for (const auto& g : s->Groups()) print_group(g, o.user);

  if (o.entries && !(o.limit && *o.limit == 0)) {
    // The first offset to print of each user's log.
    for (auto& [user, head] : users) {
      head = o.limit ? static_cast<int32_t>(std::max<int64_t>(1, head - *o.limit + 1)) : 1;
    }
    for (const auto& e : s->Entries(users)) print_entry(e);
  }
  return kExitOk;
}

}  // namespace courier::cli
