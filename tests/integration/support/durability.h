// Helpers shared by the durability tests (store faults, tick fallback,
// backup): waiting for the outcome of one send, reading a whole log through
// the broker, a tmpfs mount owned by a test, and log line counting.
//
// Ownership: TmpfsMount owns its mount point (unmounts and removes it in its
// destructor, also when the test failed). Threads: main test thread only.
// Failures: AssertionResult / std::optional, nothing throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/device.h"
#include "support/wire.h"

namespace courier::it {

// What became of one sent Message: its SENDER ack (on the user's events) or
// an error Signal about its id (on the device's events); nullopt on timeout.
std::optional<v1::Signal> SendOutcome(CourierDevice& d, const std::string& id,
                                      std::chrono::milliseconds timeout = kWait);
// Publishes `m` and waits for SendOutcome.
std::optional<v1::Signal> SendAndWaitOutcome(CourierDevice& d, const v1::Message& m);

inline bool IsSenderAck(const v1::Signal& s) {
  return s.type() == kResponse && s.signal_type() == kSender && s.signal_offset_state() && !s.has_error();
}
// Success when `outcome` is a SENDER ack; otherwise a failure that shows
// what came instead (an error Signal, or nothing and what `d` has queued).
::testing::AssertionResult Acked(const std::optional<v1::Signal>& outcome, CourierDevice& d);
// A transient error with the given code: type RESPONSE, signal_offset_state
// false, error "code: ...".
bool IsTransientError(const v1::Signal& s, const std::string& code);

// Pulls `d`'s whole log (from offset 0, 1000 at a time, until the head the
// responses report) into *entries, by offset; *head gets the head.
::testing::AssertionResult PullWholeLog(CourierDevice& d, std::map<int32_t, v1::Message>* entries, int32_t* head);

// How many lines of `text` contain `needle`, and the first such line.
size_t CountLines(const std::string& text, const std::string& needle, std::string* first = nullptr);

// A tmpfs mounted on a fresh directory under /tmp (needs root or
// CAP_SYS_ADMIN; the tests run as root in CI).
class TmpfsMount {
 public:
  TmpfsMount() = default;
  ~TmpfsMount();
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  // `options`: tmpfs mount data, e.g. "size=4m".
  ::testing::AssertionResult Mount(const std::string& options);
  // Remounts read-only.
  ::testing::AssertionResult RemountReadOnly();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

// Writes the file `path` until not even one more byte fits in its file
// system (ENOSPC); *written gets the bytes written.
::testing::AssertionResult FillUp(const std::string& path, uint64_t* written);

}  // namespace courier::it
