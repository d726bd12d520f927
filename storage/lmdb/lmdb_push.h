// Push registrations and due pushes in the LMDB store: functions over the
// caller's transaction, called by LmdbStore. Private to storage/lmdb/.
//
// Tables: `push_regs` (user, NUL, device -> courier.store.v1.PushReg) and
// `push_due` (user, NUL, device, NUL, offset as big-endian u32 ->
// courier.store.v1.PushDue). Corrupt records throw LmdbError.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lmdb_env.h"
#include "push_rules.h"  // the push_due key (DueKey, ParseDueKey)
#include "requests.h"

namespace courier::storage {

struct PushTables {
  MDB_dbi regs;
  MDB_dbi due;
};

// Writes a due push for every registered device of `user` for the RECEIVER
// copy at `offset` of its log, and appends them to *out.

void WriteDuePushes(Txn& txn, const PushTables& t, const std::string& user, int32_t offset,
                    const courier::v1::Message& m, int32_t undelivered, bool with_payload, std::vector<PushDue>* out);
// Removes the due pushes of every device of `user` at `offset`.
void ClearDuePushes(Txn& txn, const PushTables& t, const std::string& user, int32_t offset);

Status RegisterPush(Txn& txn, const PushTables& t, const PushRegisterRequest& r, PushRegisterResult* out);
uint32_t RemoveDuePushes(Txn& txn, const PushTables& t, const std::vector<PushKey>& keys);
PushScanResult ScanDuePushes(const Txn& txn, const PushTables& t, const PushScanRequest& r);
std::vector<AdminOpResult::PushReg> ListPushRegs(const Txn& txn, const PushTables& t, const std::string& user);

}  // namespace courier::storage
