// PgClient: one-shot SQL over libpq for setting up PostgreSQL servers in the
// tests (create and drop databases, read a setting, promote a standby). Not
// for anything a test measures: every call opens its own connection.
//
// Ownership: nothing is kept between calls; each call connects, runs one
// statement and closes. Threads: the functions are thread-safe (libpq is,
// per connection). Failures: each returns false and says why in *error (the
// server's message); nothing throws (but std::bad_alloc).
#pragma once

#include <string>

namespace courier::proc {

// Runs `sql` (one or more statements, no parameters) on `conninfo`. When
// `first_value` is given it receives the first column of the first row of
// the last result ("" when there is none).
bool PgExec(const std::string& conninfo, const std::string& sql, std::string* error,
            std::string* first_value = nullptr);
// `name` as a quoted SQL identifier ("a""b" for a"b).
std::string PgQuoteIdent(const std::string& name);
// A database name from any text: lower-case letters, digits and '_', at most
// 63 bytes (PostgreSQL's limit), never empty.
std::string PgDatabaseName(const std::string& text);
// CREATE DATABASE `name` (PostgreSQL 15 or later) on the server of `server_conninfo` (a conninfo
// without dbname; the statement runs in the maintenance database postgres).
bool PgCreateDatabase(const std::string& server_conninfo, const std::string& name, std::string* error);
// DROP DATABASE IF EXISTS `name` WITH (FORCE): ends its sessions first.
bool PgDropDatabase(const std::string& server_conninfo, const std::string& name, std::string* error);
// `server_conninfo` with dbname=`name` appended.
std::string PgWithDatabase(const std::string& server_conninfo, const std::string& name);

}  // namespace courier::proc
