// Groups, like storage/lmdb/groups.cc: read through the batch's cache (the
// rows were locked at its start), written through at once.
#include <algorithm>

#include "pg_ops.h"

namespace courier::storage {
namespace {

using courier::store::v1::Group;
using Kind = AdminOp::Kind;

Status Missing(const std::string& group) { return Status::NotFound("group '" + group + "' does not exist"); }
Status TooMany(uint32_t max) { return Status::Limit("a group has at most " + std::to_string(max) + " members"); }

void WriteGroup(Batch& b, const std::string& name, const Group& g) {
  b.Write(
      "INSERT INTO courier_groups (name, body) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET body = EXCLUDED.body",
      Params().Bytes(name).Bytes(g.SerializeAsString()));
  b.groups[name] = g;
}

Status CreateGroup(Batch& b, const AdminOp& op) {
  if (b.Group(op.group)) return Status::Invalid("group '" + op.group + "' exists");
  // LMDB fails its whole batch on a name it cannot store; refuse this op alone.
  if (op.group.empty() || op.group.size() > kMaxKey) return Status::Invalid("bad group name");
  Group g;
  g.set_created_ms(op.now_ms);
  for (const auto& m : op.members) {
    if (std::find(g.members().begin(), g.members().end(), m) == g.members().end()) g.add_members(m);
  }
  if (op.max_members > 0 && static_cast<uint32_t>(g.members_size()) > op.max_members) return TooMany(op.max_members);
  WriteGroup(b, op.group, g);
  return Status::Ok();
}

Status ChangeMember(Batch& b, const AdminOp& op) {
  auto g = b.Group(op.group);
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
  WriteGroup(b, op.group, *g);
  return Status::Ok();
}

}  // namespace

Status Members(Batch& b, const MembersRequest& r, MembersResult* out) {
  const auto& group = b.Group(r.group);
  if (!group) return Missing(r.group);
  const auto& m = group->members();
  if (std::find(m.begin(), m.end(), r.user) == m.end()) {
    return Status::Forbidden(r.user + " is not a member of '" + r.group + "'");
  }
  out->members.assign(m.begin(), m.end());
  return Status::Ok();
}

AdminOpResult GroupAdmin(Batch& b, const AdminOp& op) {
  AdminOpResult res;
  switch (op.kind) {
    case Kind::kCreateGroup: res.status = CreateGroup(b, op); break;
    case Kind::kDeleteGroup:
      if (!b.Group(op.group)) {
        res.status = Missing(op.group);
        break;
      }
      b.Write("DELETE FROM courier_groups WHERE name = $1", Params().Bytes(op.group));
      b.groups[op.group] = std::nullopt;
      break;
    case Kind::kAddMember:
    case Kind::kRemoveMember: res.status = ChangeMember(b, op); break;
    case Kind::kListGroups: {
      PgResult rows = b.Read("SELECT name FROM courier_groups ORDER BY name");
      for (int i = 0; i < rows.rows(); ++i) res.names.emplace_back(rows.bytes(i, 0));
      break;
    }
    case Kind::kGetGroup: {
      const auto& g = b.Group(op.group);
      if (!g) {
        res.status = Missing(op.group);
        break;
      }
      res.names.assign(g->members().begin(), g->members().end());
      if (auto n = b.PeekConv(op.conversation)) {
        res.user_offset = *n;
      } else {
        PgResult c = b.Read("SELECT n FROM courier_convs WHERE conv = $1", Params().Bytes(op.conversation));
        res.user_offset = c.rows() > 0 ? static_cast<int32_t>(c.integer(0, 0)) : 0;
      }
      break;
    }
    default: break;
  }
  return res;
}

}  // namespace courier::storage
