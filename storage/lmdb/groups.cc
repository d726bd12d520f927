#include "groups.h"

#include "counters.h"
#include "group_rules.h"

namespace courier::storage {
namespace {

using courier::store::v1::Group;
using Kind = AdminOp::Kind;

void WriteGroup(Txn& txn, const Tables& t, const std::string& name, const Group& g) {
  txn.Put(t.groups, name, g.SerializeAsString());
}

Status CreateGroup(Txn& txn, const Tables& t, const AdminOp& op) {
  if (ReadGroup(txn, t, op.group)) return Status::Invalid("group '" + op.group + "' exists");
  Group g;
  if (Status s = NewGroup(op, &g); !s.ok()) return s;
  WriteGroup(txn, t, op.group, g);
  return Status::Ok();
}

Status ChangeMember(Txn& txn, const Tables& t, const AdminOp& op) {
  auto g = ReadGroup(txn, t, op.group);
  if (!g) return GroupMissing(op.group);
  bool changed = false;
  if (Status s = ChangeMembership(op, &*g, &changed); !s.ok() || !changed) return s;
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
  if (Status s = CheckMember(group ? &*group : nullptr, name, user); !s.ok()) return s;
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
      if (!txn.Del(t.groups, op.group)) res.status = GroupMissing(op.group);
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
        res.status = GroupMissing(op.group);
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
