#include "admin_ops.h"

#include "counters.h"
#include "groups.h"
#include "keys.h"
#include "lmdb_push.h"

namespace courier::storage {
namespace {

using Kind = AdminOp::Kind;

// kGetUser: the user's head, undelivered count and device cursors.
void GetUser(const Txn& txn, const Tables& t, const AdminOp& op, AdminOpResult* res) {
  res->head = ReadCounter(txn, t.heads, op.user);
  res->undelivered = ReadCounter(txn, t.undelivered, op.user);
  Cursor cur(txn, t.cursors);
  const std::string prefix = op.user + '\0';
  for (bool ok = cur.Seek(prefix); ok && cur.key().substr(0, prefix.size()) == prefix; ok = cur.Next()) {
    auto v = keys::DecodeCounter(cur.value());
    res->cursors.emplace_back(std::string(cur.key().substr(prefix.size())), v.value_or(0));
  }
}

// kRemovePush: NotFound when the device has no registration.
Status RemovePush(Txn& txn, const Tables& t, const AdminOp& op) {
  PushRegisterResult removed;
  Status s =
      RegisterPush(txn, {t.push_regs, t.push_due},
                   PushRegisterRequest{
                       .user = op.user, .device = op.device, .app = {}, .token = {}, .now_ms = op.now_ms, .reply = {}},
                   &removed);
  if (s.ok() && !removed.existed) return Status::NotFound(op.user + "/" + op.device + " has no push registration");
  return s;
}

AdminOpResult ApplyOp(Txn& txn, const Tables& t, const AdminOp& op) {
  AdminOpResult res;
  switch (op.kind) {
    case Kind::kNone: break;
    case Kind::kGetUser: GetUser(txn, t, op, &res); break;
    case Kind::kListPush: res.push_regs = ListPushRegs(txn, {t.push_regs, t.push_due}, op.user); break;
    case Kind::kRemovePush: res.status = RemovePush(txn, t, op); break;
    default: res = GroupAdmin(txn, t, op); break;
  }
  return res;
}

}  // namespace

void Admin(Txn& txn, const Tables& t, const AdminRequest& r, AdminResult* out) {
  out->results.reserve(r.ops.size());
  for (const auto& op : r.ops) out->results.push_back(ApplyOp(txn, t, op));
}

}  // namespace courier::storage
