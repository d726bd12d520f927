// StoreReader: reads a store directory directly with courier::storage::
// LmdbStore, bypassing the broker, for end-of-test checks of what is on disk.
//
// Ownership: owns the opened store; the broker must not be running on the
// same directory (LMDB allows one writer process). Threads: main test thread.
// Failures: Open() and Log() return an AssertionResult naming what failed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/wire.h"

namespace courier::storage {
class LmdbStore;
}

namespace courier::it {

class StoreReader {
 public:
  ~StoreReader();
  static ::testing::AssertionResult Open(const std::string& db_path,
                                         std::unique_ptr<StoreReader>* out);
  // `user`'s whole log in offset order, and the head counter of the log.
  ::testing::AssertionResult Log(const std::string& user, std::vector<v1::Message>* entries,
                                 int32_t* head);

 private:
  StoreReader() = default;
  std::unique_ptr<storage::LmdbStore> store_;
};

}  // namespace courier::it
