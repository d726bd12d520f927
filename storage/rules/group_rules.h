// Engine-neutral rules of group membership: a new group's members, and
// adding or removing one member, with the member limit and the errors both
// engines return.
//
// Pure functions over the stored Group record, any thread; the engine
// reads the record before and writes it after.
#pragma once

#include <string>
#include <vector>

#include "requests.h"
#include "status.h"
#include "store.pb.h"

namespace courier::storage {

// NotFound for a group that does not exist.
Status GroupMissing(const std::string& group);

// Ok when `group` (named `name`; nullptr when it does not exist) has
// `user` as a member; else NotFound (no group) or Forbidden (not a member).
Status CheckMember(const courier::store::v1::Group* group, const std::string& name, const std::string& user);

// The receivers of a group message from `sender`: every other member.
std::vector<std::string> OtherMembers(const courier::store::v1::Group& group, const std::string& sender);

// The record of a new group from op (members once each, created at
// op.now_ms); Limit over op.max_members (when > 0).
Status NewGroup(const AdminOp& op, courier::store::v1::Group* out);

// Adds (kAddMember) or removes op.user. *changed says whether to write the
// record: adding a member already in it changes nothing. Limit when full;
// NotFound when removing a user who is not a member.
Status ChangeMembership(const AdminOp& op, courier::store::v1::Group* g, bool* changed);

}  // namespace courier::storage
