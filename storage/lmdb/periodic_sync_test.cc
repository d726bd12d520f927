#include "periodic_sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "test_util.h"

namespace courier::storage {
namespace {

using namespace std::chrono_literals;
using courier::testing::TempDir;

// A file in a fresh directory, open for writing.
class PeriodicSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fd_ = ::open(dir_.Sub("data").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd_, 0);
  }
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
  }
  void Write() { ASSERT_EQ(::write(fd_, "x", 1), 1); }
  // Waits up to 10 s for `sync` to have synced n times.
  static bool WaitForSyncs(const PeriodicSync& sync, uint64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (sync.syncs() < n && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
    return sync.syncs() >= n;
  }
  TempDir dir_;
  int fd_ = -1;
};

TEST_F(PeriodicSyncTest, SyncsOnlyWhatWasMarkedDirty) {
  PeriodicSync sync(fd_, 5ms);
  std::this_thread::sleep_for(50ms);  // about ten rounds with nothing written
  EXPECT_EQ(sync.syncs(), 0u) << "a clean file is not synced";

  Write();
  sync.MarkDirty();
  ASSERT_TRUE(WaitForSyncs(sync, 1));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(sync.syncs(), 1u) << "one sync per marking, not one per round";

  Write();
  sync.MarkDirty();
  ASSERT_TRUE(WaitForSyncs(sync, 2));
  EXPECT_EQ(sync.failures(), 0u);
}

// A clean shutdown syncs what is dirty, however long the interval.
TEST_F(PeriodicSyncTest, StopSyncsWhatIsDirty) {
  PeriodicSync sync(fd_, std::chrono::hours(1));
  Write();
  sync.MarkDirty();
  sync.Stop();
  EXPECT_EQ(sync.syncs(), 1u);
  sync.Stop();  // idempotent
  EXPECT_EQ(sync.syncs(), 1u);
}

TEST_F(PeriodicSyncTest, StopWithNothingDirtyDoesNotSync) {
  PeriodicSync sync(fd_, std::chrono::hours(1));
  sync.Stop();
  EXPECT_EQ(sync.syncs(), 0u);
}

// It syncs its own duplicate, so the caller may close its descriptor (LMDB
// does on a reopen).
TEST_F(PeriodicSyncTest, KeepsSyncingAfterTheCallerClosesItsDescriptor) {
  PeriodicSync sync(fd_, 5ms);
  Write();
  ::close(fd_);
  fd_ = -1;
  sync.MarkDirty();
  ASSERT_TRUE(WaitForSyncs(sync, 1));
  EXPECT_EQ(sync.failures(), 0u);
}

TEST_F(PeriodicSyncTest, BadDescriptorThrows) { EXPECT_THROW(PeriodicSync(-1, 5ms), std::system_error); }

}  // namespace
}  // namespace courier::storage
