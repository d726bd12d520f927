#include "groups.h"

#include <algorithm>

#include "counters.h"

namespace courier::storage {
namespace {

using courier::store::v1::Group;
using Kind = AdminOp::Kind;

Status Missing(const std::string& group) { return Status::NotFound("group '" + group + "' does not exist"); }
Status TooMany(uint32_t max) { return Status::Limit("a group has at most " + std::to_string(max) + " members"); }

void WriteGroup(Txn& txn, const Tables& t, const std::string& name, const Group& g) {
  txn.Put(t.groups, name, g.SerializeAsString());
}

Status CreateGroup(Txn& txn, const Tables& t, const AdminOp& op) {
  if (ReadGroup(txn, t, op.group)) return Status::Invalid("group '" + op.group + "' exists");
  Group g;
  g.set_created_ms(op.now_ms);
  for (const auto& m : op.members) {
    if (std::find(g.members().begin(), g.members().end(), m) == g.members().end()) g.add_members(m);
  }
  if (op.max_members > 0 && static_cast<uint32_t>(g.members_size()) > op.max_members) return TooMany(op.max_members);
  WriteGroup(txn, t, op.group, g);
  return Status::Ok();
}

Status ChangeMember(Txn& txn, const Tables& t, const AdminOp& op) {
  auto g = ReadGroup(txn, t, op.group);
  if (!g) return Missing(op.group);
  auto* m = g->mutable_members();
  auto it = std::find(m->begin(), m->end(), op.user);
  if (op.kind == Kind::kAddMember) {
    if (it != m->end()) return Status::Ok();  // already a member: nothing to do
    if (op.max_members > 0 && static_cast<uint32_t>(m->size()) >= op.max_members) return TooMany(op.max_members);
    g->add_members(op.user);
  } else {
    if (it == m->end()) return Status::NotFound(op.user + " is not a member of '" + op.group + "'");
    m->erase(it);
  }
  WriteGroup(txn, t, op.group, *g);
  return Status::Ok();
}

}  // namespace

std::optional<Group> ReadGroup(const Txn& txn, const Tables& t, const std::string& name) {
  if (name.empty() || !KeysFit(txn, {name.size()})) return std::nullopt;
  auto v = txn.Get(t.groups, name);
  if (!v) return std::nullopt;
  Group g;
  if (!g.ParseFromArray(v->data(), static_cast<int>(v->size()))) {
    throw LmdbError(MDB_CORRUPTED, "group record does not parse");
  }
  return g;
}

Status GroupOfMember(const Txn& txn, const Tables& t, const std::string& name, const std::string& user, Group* out) {
  auto group = ReadGroup(txn, t, name);
  if (!group) return Missing(name);
  const auto& m = group->members();
  if (std::find(m.begin(), m.end(), user) == m.end()) {
    return Status::Forbidden(user + " is not a member of '" + name + "'");
  }
  *out = std::move(*group);
  return Status::Ok();
}

Status Members(const Txn& txn, const Tables& t, const MembersRequest& r, MembersResult* out) {
  Group group;
  Status s = GroupOfMember(txn, t, r.group, r.user, &group);
  if (s.ok()) out->members.assign(group.members().begin(), group.members().end());
  return s;
}

AdminOpResult GroupAdmin(Txn& txn, const Tables& t, const AdminOp& op) {
  AdminOpResult res;
  switch (op.kind) {
    case Kind::kCreateGroup: res.status = CreateGroup(txn, t, op); break;
    case Kind::kDeleteGroup:
      if (!txn.Del(t.groups, op.group)) res.status = Missing(op.group);
      break;
    case Kind::kAddMember:
    case Kind::kRemoveMember: res.status = ChangeMember(txn, t, op); break;
    case Kind::kListGroups: {
      Cursor cur(txn, t.groups);
      for (bool ok = cur.Seek(std::string_view()); ok; ok = cur.Next()) res.names.emplace_back(cur.key());
      break;
    }
    case Kind::kGetGroup: {
      auto g = ReadGroup(txn, t, op.group);
      if (!g) {
        res.status = Missing(op.group);
        break;
      }
      res.names.assign(g->members().begin(), g->members().end());
      res.user_offset = ReadCounter(txn, t.convs, op.conversation);
      break;
    }
    default: break;
  }
  return res;
}

}  // namespace courier::storage
