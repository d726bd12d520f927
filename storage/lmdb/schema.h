// On-disk schema version of the LMDB store. Bump it whenever a table's key or
// value encoding changes meaning; a build refuses stores of other versions.
#pragma once

namespace courier::storage {

inline constexpr const char* kSchemaVersionKey = "schema_version";
inline constexpr const char* kSchemaVersion = "2";

}  // namespace courier::storage
