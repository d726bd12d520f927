// PgLogReader: reads users' logs straight from a Courier PostgreSQL
// database (schema version 1, storage/postgres/pg_schema.cc), bypassing the
// brokers, for the end-of-test checks of the scale-out tests: every copy of
// a user in offset order, as a pull from offset 0 shows it (the stored
// body's message with the copy's offset and type), and the user's head row.
//
// Ownership: owns one libpq connection, closed by the destructor. Each call
// reads in one REPEATABLE READ transaction (a consistent snapshot).
// Threads: one thread at a time. Failures: AssertionResult naming the SQL
// error or the record that does not decode; nothing throws.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/wire.h"

typedef struct pg_conn PGconn;

namespace courier::it {

class PgLogReader {
 public:
  ~PgLogReader();
  static ::testing::AssertionResult Open(const std::string& conninfo, std::unique_ptr<PgLogReader>* out);
  // `user`'s whole log in offset order and its head counter (0 without a
  // head row).
  ::testing::AssertionResult Log(const std::string& user, std::vector<v1::Message>* entries, int32_t* head);

 private:
  PgLogReader() = default;
  PGconn* conn_ = nullptr;
};

}  // namespace courier::it
