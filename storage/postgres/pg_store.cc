#include "pg_store.h"

// Placeholder until the engine lands: Open refuses.
namespace courier::storage {

struct PgStore::Impl {};

Status PgStore::Open(const PgOptions&, PgLog, std::unique_ptr<PgStore>*) {
  return Status::Invalid("the PostgreSQL store is not built yet");
}
PgStore::PgStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PgStore::~PgStore() = default;
void PgStore::Submit(Request) {}
std::vector<Completion> PgStore::Flush() { return {}; }
size_t PgStore::pending() const { return 0; }
StoreStats PgStore::commit_stats() const { return {}; }
std::string PgStore::Describe(const std::string&) { return {}; }

}  // namespace courier::storage
