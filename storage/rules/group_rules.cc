#include "group_rules.h"

#include <algorithm>

namespace courier::storage {
namespace {

Status TooMany(uint32_t max) { return Status::Limit("a group has at most " + std::to_string(max) + " members"); }

}  // namespace

Status GroupMissing(const std::string& group) { return Status::NotFound("group '" + group + "' does not exist"); }

Status CheckMember(const courier::store::v1::Group* group, const std::string& name, const std::string& user) {
  if (!group) return GroupMissing(name);
  const auto& m = group->members();
  if (std::find(m.begin(), m.end(), user) == m.end()) {
    return Status::Forbidden(user + " is not a member of '" + name + "'");
  }
  return Status::Ok();
}

std::vector<std::string> OtherMembers(const courier::store::v1::Group& group, const std::string& sender) {
  std::vector<std::string> out;
  for (const auto& u : group.members()) {
    if (u != sender) out.push_back(u);
  }
  return out;
}

Status NewGroup(const AdminOp& op, courier::store::v1::Group* g) {
  g->set_created_ms(op.now_ms);
  for (const auto& m : op.members) {
    if (std::find(g->members().begin(), g->members().end(), m) == g->members().end()) g->add_members(m);
  }
  if (op.max_members > 0 && static_cast<uint32_t>(g->members_size()) > op.max_members) return TooMany(op.max_members);
  return Status::Ok();
}

Status ChangeMembership(const AdminOp& op, courier::store::v1::Group* g, bool* changed) {
  *changed = false;
  auto* m = g->mutable_members();
  auto it = std::find(m->begin(), m->end(), op.user);
  if (op.kind == AdminOp::Kind::kAddMember) {
    if (it != m->end()) return Status::Ok();  // already a member: nothing to do
    if (op.max_members > 0 && static_cast<uint32_t>(m->size()) >= op.max_members) return TooMany(op.max_members);
    g->add_members(op.user);
  } else {
    if (it == m->end()) return Status::NotFound(op.user + " is not a member of '" + op.group + "'");
    m->erase(it);
  }
  *changed = true;
  return Status::Ok();
}

}  // namespace courier::storage
