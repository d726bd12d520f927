// The cursor file: the highest offset a device has delivered in order, kept
// across restarts of the client. A few lines of text:
//
//   # courier client cursor
//   version=1
//   user=alice
//   device=alice-phone
//   cursor=42
//
// Written atomically: a temporary file next to it (NAME.tmp.PID) is written,
// fsynced and renamed over NAME, then the directory is fsynced, so a crash
// leaves either the old or the new file, never a torn one.
// Pure functions of their arguments and the file system; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace courier::client::detail {

struct CursorRecord {
  std::string user;
  std::string device;
  int32_t cursor = 0;
};

// nullopt when the file does not exist. Throws std::invalid_argument when it
// exists but cannot be read or parsed.
std::optional<CursorRecord> LoadCursorFile(const std::string& path);

// Writes `record` atomically. Returns an empty string on success, else what
// failed.
std::string SaveCursorFile(const std::string& path, const CursorRecord& record);

}  // namespace courier::client::detail
