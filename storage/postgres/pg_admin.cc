// Administration requests, like storage/lmdb/admin_ops.cc.
#include "pg_ops.h"

namespace courier::storage {
namespace {

using Kind = AdminOp::Kind;

// kGetUser: the user's head, undelivered count and device cursors.
void GetUser(Batch& b, const AdminOp& op, AdminOpResult* res) {
  const HeadRow h = b.PeekHead(op.user);
  res->head = h.head;
  res->undelivered = h.undelivered;
  PgResult rows =
      b.Read("SELECT device, cur FROM courier_cursors WHERE usr = $1 ORDER BY device", Params().Bytes(op.user));
  for (int i = 0; i < rows.rows(); ++i) {
    res->cursors.emplace_back(std::string(rows.bytes(i, 0)), static_cast<int32_t>(rows.integer(i, 1)));
  }
}

// kRemovePush: NotFound when the device has no registration.
Status RemovePush(Batch& b, const AdminOp& op) {
  PushRegisterResult removed;
  Status s =
      RegisterPush(b,
                   PushRegisterRequest{
                       .user = op.user, .device = op.device, .app = {}, .token = {}, .now_ms = op.now_ms, .reply = {}},
                   &removed);
  if (s.ok() && !removed.existed) return Status::NotFound(op.user + "/" + op.device + " has no push registration");
  return s;
}

AdminOpResult ApplyOp(Batch& b, const AdminOp& op) {
  AdminOpResult res;
  switch (op.kind) {
    case Kind::kNone: break;
    case Kind::kGetUser: GetUser(b, op, &res); break;
    case Kind::kListPush: res.push_regs = ListPushRegs(b, op.user); break;
    case Kind::kRemovePush: res.status = RemovePush(b, op); break;
    default: res = GroupAdmin(b, op); break;
  }
  return res;
}

}  // namespace

void Admin(Batch& b, const AdminRequest& r, AdminResult* out) {
  out->results.reserve(r.ops.size());
  for (const auto& op : r.ops) out->results.push_back(ApplyOp(b, op));
}

}  // namespace courier::storage
