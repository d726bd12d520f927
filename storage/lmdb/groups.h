// Groups in the LMDB store (`groups`: name -> courier.store.v1.Group):
// reading a group, membership checks, and the admin operations that change
// groups. Functions over the caller's transaction, called by LmdbStore and
// admin_ops. Private to storage/lmdb/.
// Failure: refusals come back as a Status and write nothing; LMDB failures
// and a record that does not parse throw LmdbError.
#pragma once

#include <optional>
#include <string>

#include "lmdb_env.h"
#include "requests.h"
#include "store.pb.h"
#include "tables.h"

namespace courier::storage {

// The group, nullopt when it does not exist (or its name cannot be a key).
std::optional<courier::store::v1::Group> ReadGroup(const Txn& txn, const Tables& t, const std::string& name);

// NotFound when the group does not exist, kForbidden when `user` is not a member.
Status GroupOfMember(const Txn& txn, const Tables& t, const std::string& name, const std::string& user,
                     courier::store::v1::Group* out);

// See MembersRequest.
Status Members(const Txn& txn, const Tables& t, const MembersRequest& r, MembersResult* out);

// The group operations of AdminOp: kCreateGroup, kDeleteGroup, kAddMember,
// kRemoveMember, kListGroups, kGetGroup. Other kinds do nothing.
AdminOpResult GroupAdmin(Txn& txn, const Tables& t, const AdminOp& op);

}  // namespace courier::storage
