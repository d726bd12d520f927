// Groups, like storage/lmdb/groups.cc: read through the batch's cache (the
// rows were locked at its start), written through at once.
#include "group_rules.h"
#include "pg_ops.h"

namespace courier::storage {
namespace {

using courier::store::v1::Group;
using Kind = AdminOp::Kind;

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
  if (Status s = NewGroup(op, &g); !s.ok()) return s;
  WriteGroup(b, op.group, g);
  return Status::Ok();
}

Status ChangeMember(Batch& b, const AdminOp& op) {
  auto g = b.Group(op.group);
  if (!g) return GroupMissing(op.group);
  bool changed = false;
  if (Status s = ChangeMembership(op, &*g, &changed); !s.ok() || !changed) return s;
  WriteGroup(b, op.group, *g);
  return Status::Ok();
}

}  // namespace

Status Members(Batch& b, const MembersRequest& r, MembersResult* out) {
  const auto& group = b.Group(r.group);
  if (Status s = CheckMember(group ? &*group : nullptr, r.group, r.user); !s.ok()) return s;
  out->members.assign(group->members().begin(), group->members().end());
  return Status::Ok();
}

AdminOpResult GroupAdmin(Batch& b, const AdminOp& op) {
  AdminOpResult res;
  switch (op.kind) {
    case Kind::kCreateGroup: res.status = CreateGroup(b, op); break;
    case Kind::kDeleteGroup:
      if (!b.Group(op.group)) {
        res.status = GroupMissing(op.group);
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
        res.status = GroupMissing(op.group);
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
