#include "support/store_reader.h"

#include <variant>

#include "lmdb_store.h"

namespace courier::it {

StoreReader::~StoreReader() = default;

::testing::AssertionResult StoreReader::Open(const std::string& db_path,
                                             std::unique_ptr<StoreReader>* out) {
  storage::LmdbOptions options;
  options.path = db_path;
  std::unique_ptr<storage::LmdbStore> store;
  auto status = storage::LmdbStore::Open(options, &store);
  if (!status.ok()) {
    return ::testing::AssertionFailure() << "cannot open the store at " << db_path << ": "
                                         << status.ToString();
  }
  out->reset(new StoreReader());
  (*out)->store_ = std::move(store);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult StoreReader::Log(const std::string& user,
                                            std::vector<v1::Message>* entries, int32_t* head) {
  storage::PullRequest pull;
  pull.id = "store-reader";
  pull.user = user;
  pull.device = "store-reader";
  pull.after = 0;
  pull.limit = 0xffffffffu;
  store_->Submit(pull);
  auto done = store_->Flush();
  if (done.size() != 1) {
    return ::testing::AssertionFailure() << "Flush returned " << done.size() << " completions";
  }
  if (!done[0].status.ok()) {
    return ::testing::AssertionFailure() << "reading the log of " << user << ": "
                                         << done[0].status.ToString();
  }
  auto* result = std::get_if<storage::PullResult>(&done[0].result);
  if (result == nullptr) return ::testing::AssertionFailure() << "pull returned no PullResult";
  *entries = std::move(result->entries);
  *head = result->head;
  return ::testing::AssertionSuccess();
}

}  // namespace courier::it
