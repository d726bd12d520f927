#include "lmdb_push.h"

#include "keys.h"
#include "tables.h"
#include "store.pb.h"

namespace courier::storage {
namespace {

using courier::store::v1::PushReg;

std::string UserPrefix(std::string_view user) {
  std::string k(user);
  k.push_back('\0');
  return k;
}

std::string RegKey(std::string_view user, std::string_view device) { return UserPrefix(user).append(device); }

template <typename Proto>
Proto ParseOrThrow(std::string_view bytes, const char* what) {
  Proto p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) throw LmdbError(MDB_CORRUPTED, what);
  return p;
}

// Every registration of `user`: device -> record.
std::vector<std::pair<std::string, PushReg>> RegsOf(const Txn& txn, MDB_dbi regs, const std::string& user) {
  std::vector<std::pair<std::string, PushReg>> out;
  const std::string prefix = UserPrefix(user);
  Cursor cur(txn, regs);
  for (bool ok = cur.Seek(prefix); ok && cur.key().substr(0, prefix.size()) == prefix; ok = cur.Next()) {
    out.emplace_back(std::string(cur.key().substr(prefix.size())),
                     ParseOrThrow<PushReg>(cur.value(), "push registration does not parse"));
  }
  return out;
}

// Removes every due push of (user, device).
void ClearDevice(Txn& txn, MDB_dbi due, const std::string& user, const std::string& device) {
  const std::string prefix = RegKey(user, device) + std::string(1, '\0');
  std::vector<std::string> keys;
  Cursor cur(txn, due);
  for (bool ok = cur.Seek(prefix); ok && cur.key().substr(0, prefix.size()) == prefix; ok = cur.Next()) {
    keys.emplace_back(cur.key());
  }
  for (const auto& k : keys) txn.Del(due, k);
}

}  // namespace

void WriteDuePushes(Txn& txn, const PushTables& t, const std::string& user, int32_t offset,
                    const courier::v1::Message& m, int32_t undelivered, bool with_payload, std::vector<PushDue>* out) {
  auto regs = RegsOf(txn, t.regs, user);
  if (regs.empty()) return;
  const courier::store::v1::PushDue d = DueRecord(m, undelivered, with_payload);
  const std::string bytes = d.SerializeAsString();
  for (const auto& [device, reg] : regs) {
    txn.Put(t.due, DueKey(user, device, offset), bytes);
    out->push_back(DueOf(PushKey{user, device, offset}, reg, d));
  }
}

void ClearDuePushes(Txn& txn, const PushTables& t, const std::string& user, int32_t offset) {
  for (const auto& [device, reg] : RegsOf(txn, t.regs, user)) txn.Del(t.due, DueKey(user, device, offset));
}

Status RegisterPush(Txn& txn, const PushTables& t, const PushRegisterRequest& r, PushRegisterResult* out) {
  if (Status s = CheckPushNames(r.user, r.device, MaxKeySize(txn)); !s.ok()) return s;
  const std::string key = RegKey(r.user, r.device);
  out->existed = txn.Get(t.regs, key).has_value();
  if (r.token.empty()) {
    txn.Del(t.regs, key);
    ClearDevice(txn, t.due, r.user, r.device);
    return Status::Ok();
  }
  PushReg reg;
  reg.set_app(r.app);
  reg.set_token(r.token);
  reg.set_registered_ms(r.now_ms);
  txn.Put(t.regs, key, reg.SerializeAsString());
  return Status::Ok();
}

uint32_t RemoveDuePushes(Txn& txn, const PushTables& t, const std::vector<PushKey>& keys) {
  uint32_t removed = 0;
  for (const auto& k : keys) {
    if (k.user.find('\0') != std::string::npos || k.device.find('\0') != std::string::npos) continue;
    if (txn.Del(t.due, DueKey(k.user, k.device, k.offset))) ++removed;
  }
  return removed;
}

PushScanResult ScanDuePushes(const Txn& txn, const PushTables& t, const PushScanRequest& r) {
  PushScanResult out;
  Cursor cur(txn, t.due);
  bool ok = cur.Seek(r.after_key);
  if (ok && !r.after_key.empty() && cur.key() == r.after_key) ok = cur.Next();
  for (; ok; ok = cur.Next()) {
    if (out.due.size() >= r.limit) {
      out.next_key = std::string(
          out.due.empty() ? r.after_key : DueKey(out.due.back().user, out.due.back().device, out.due.back().offset));
      break;
    }
    PushKey k;
    if (!ParseDueKey(cur.key(), &k)) throw LmdbError(MDB_CORRUPTED, "bad due push key");
    auto reg = txn.Get(t.regs, RegKey(k.user, k.device));
    if (!reg) continue;  // unregistered meanwhile: nothing to send
    out.due.push_back(DueOf(k, ParseOrThrow<PushReg>(*reg, "push registration does not parse"),
                            ParseOrThrow<courier::store::v1::PushDue>(cur.value(), "due push does not parse")));
  }
  return out;
}

std::vector<AdminOpResult::PushReg> ListPushRegs(const Txn& txn, const PushTables& t, const std::string& user) {
  std::vector<AdminOpResult::PushReg> out;
  for (const auto& [device, reg] : RegsOf(txn, t.regs, user)) {
    AdminOpResult::PushReg r{
        .device = device, .app = reg.app(), .token = reg.token(), .registered_ms = reg.registered_ms(), .due = 0};
    const std::string prefix = RegKey(user, device) + std::string(1, '\0');
    Cursor cur(txn, t.due);
    for (bool ok = cur.Seek(prefix); ok && cur.key().substr(0, prefix.size()) == prefix; ok = cur.Next()) ++r.due;
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace courier::storage
