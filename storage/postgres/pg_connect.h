// Opening a PgConn from a libpq conninfo string: the parse that PgStore
// (for its reconnects) and the tools that reach a PostgreSQL store from
// outside the broker (PgReader, ImportIntoPg) share.
//
// Ownership: the caller owns the connection. Thread: any.
// Failure: kInvalid for a conninfo that does not parse, kIoError when the
// server cannot be reached; no message ever contains the password.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pg_conn.h"
#include "status.h"

namespace courier::storage {

// Keywords and values for PgConn::Connect (libpq's PQconnectdbParams).
using PgParams = std::vector<std::pair<std::string, std::string>>;

// The parsed conninfo, plus connect_timeout = `timeout_s` (at least 1) unless
// the conninfo sets one.
Status ConninfoParams(const std::string& conninfo, int timeout_s, PgParams* out);

// ConninfoParams, then one connection attempt.
Status ConnectPg(const std::string& conninfo, int timeout_s, std::unique_ptr<PgConn>* out);

// "host=... port=... dbname=... user=..." (whichever are set) for log lines
// and errors: never the password. "(malformed conninfo)" if it does not parse.
std::string DescribeConninfo(const std::string& conninfo);

}  // namespace courier::storage
