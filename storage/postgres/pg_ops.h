// The operations of PgStore, each over the caller's open transaction (the
// Batch), in the order and with the results of their LMDB counterparts
// (storage/lmdb/: log.cc, receipts.cc, groups.cc, admin_ops.cc,
// lmdb_push.cc, housekeeping.cc). Private to storage/postgres/.
//
// Failure: refusals come back as a Status (requests.h says which) and
// write nothing; they never abort the transaction, because every check
// reads before anything is written. SQL failures and records that do not
// parse throw PgError, which fails the whole batch.
#pragma once

#include <string>
#include <vector>

#include "pg_batch.h"
#include "requests.h"

namespace courier::storage {

// pg_log.cc
Status Append(Batch& b, const AppendRequest& r, AppendResult* out);
Status Pull(Batch& b, const PullRequest& r, PullResult* out);

// pg_receipts.cc
Status Receipt(Batch& b, const ReceiptRequest& r, ReceiptResult* out);

// pg_groups.cc
Status Members(Batch& b, const MembersRequest& r, MembersResult* out);
// kCreateGroup, kDeleteGroup, kAddMember, kRemoveMember, kListGroups, kGetGroup.
AdminOpResult GroupAdmin(Batch& b, const AdminOp& op);

// pg_admin.cc
void Admin(Batch& b, const AdminRequest& r, AdminResult* out);

// pg_push.cc
void WriteDuePushes(Batch& b, const std::string& user, int32_t offset, const courier::v1::Message& m,
                    int32_t undelivered, bool with_payload, std::vector<PushDue>* out);
void ClearDuePushes(Batch& b, const std::string& user, int32_t offset);
Status RegisterPush(Batch& b, const PushRegisterRequest& r, PushRegisterResult* out);
uint32_t RemoveDuePushes(Batch& b, const std::vector<PushKey>& keys);
PushScanResult ScanDuePushes(Batch& b, const PushScanRequest& r);
std::vector<AdminOpResult::PushReg> ListPushRegs(Batch& b, const std::string& user);

// pg_housekeeping.cc: in the maintenance transaction, on the edge that holds
// the housekeeping advisory lock.
void Expire(Batch& b, const ExpireRequest& r, ExpireResult* out);
void Trim(Batch& b, const TrimRequest& r, std::string* resume, TrimResult* out);

}  // namespace courier::storage
