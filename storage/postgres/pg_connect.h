// A PgConn opened from a libpq conninfo string, for the tools that reach a
// PostgreSQL store from outside the broker (PgReader, ImportIntoPg).
// PgStore opens its connections itself (pg_store.cc).
//
// Ownership: the caller owns the connection. Thread: any.
// Failure: kInvalid for a conninfo that does not parse, kIoError when the
// server cannot be reached; the message never contains the password.
#pragma once

#include <memory>
#include <string>

#include "pg_conn.h"
#include "status.h"

namespace courier::storage {

// Connects with a connect_timeout of `timeout_s` unless the conninfo sets one.
Status ConnectPg(const std::string& conninfo, int timeout_s, std::unique_ptr<PgConn>* out);

}  // namespace courier::storage
