// StoreReader: reads a store directory through storage's read-only Reader
// (storage/api/reader.h), bypassing the broker, for end-of-test checks of
// what is on disk.
// LMDB only: the tests that use it carry the ctest label lmdb.
//
// Ownership: owns the reader, one snapshot of the store taken at Open();
// the broker may run on the same directory, but later writes are not seen.
// Threads: main test thread.
// Failures: Open() and Log() return an AssertionResult naming what failed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/wire.h"

namespace courier::storage {
class Reader;
}

namespace courier::it {

class StoreReader {
 public:
  ~StoreReader();
  static ::testing::AssertionResult Open(const std::string& db_path, std::unique_ptr<StoreReader>* out);
  // `user`'s whole log in offset order as a pull from offset 0 returns it
  // (entries that expired undelivered left out), and the head counter of
  // the log.
  ::testing::AssertionResult Log(const std::string& user, std::vector<v1::Message>* entries, int32_t* head);

 private:
  StoreReader() = default;
  std::unique_ptr<storage::Reader> reader_;
};

}  // namespace courier::it
