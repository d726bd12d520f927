#include "support/store_reader.h"

#include "lmdb_reader.h"

namespace courier::it {

StoreReader::~StoreReader() = default;

::testing::AssertionResult StoreReader::Open(const std::string& db_path, std::unique_ptr<StoreReader>* out) {
  std::unique_ptr<storage::Reader> reader;
  auto status = storage::OpenLmdbReader(db_path, &reader);
  if (!status.ok()) {
    return ::testing::AssertionFailure() << "cannot open the store at " << db_path << ": " << status.ToString();
  }
  out->reset(new StoreReader());
  (*out)->reader_ = std::move(reader);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult StoreReader::Log(const std::string& user, std::vector<v1::Message>* entries, int32_t* head) {
  *head = 0;
  for (const auto& h : reader_->Heads()) {
    if (h.key == user) *head = h.value;
  }
  entries->clear();
  for (auto& e : reader_->Entries({{user, 1}})) {
    if (e.undecodable_bytes > 0 || (!e.body && !e.legacy)) {
      return ::testing::AssertionFailure() << "entry " << e.offset << " of " << user << " does not decode";
    }
    if (e.expired && !e.message.signal_ack_state().received()) continue;  // a pull skips it
    entries->push_back(std::move(e.message));
  }
  return ::testing::AssertionSuccess();
}

}  // namespace courier::it
