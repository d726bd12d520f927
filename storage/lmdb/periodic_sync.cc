#include "periodic_sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace courier::storage {

PeriodicSync::PeriodicSync(int fd, std::chrono::milliseconds interval) : interval_(interval) {
  fd_ = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "cannot duplicate the store's descriptor");
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (...) {
    ::close(fd_);
    throw;
  }
}

PeriodicSync::~PeriodicSync() {
  Stop();
  ::close(fd_);
}

void PeriodicSync::Stop() {
  {
    std::lock_guard lk(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void PeriodicSync::Run() {
  std::unique_lock lk(mu_);
  for (;;) {
    const bool stopping = cv_.wait_for(lk, interval_, [this] { return stop_; });
    lk.unlock();
    SyncIfDirty();
    if (stopping) return;
    lk.lock();
  }
}

void PeriodicSync::SyncIfDirty() {
  // Cleared before the sync: a write that lands during it marks the file
  // again, and the next round covers it.
  if (!dirty_.exchange(false, std::memory_order_acq_rel)) return;
  if (::fdatasync(fd_) == 0) {
    syncs_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  failures_.fetch_add(1, std::memory_order_relaxed);
  dirty_.store(true, std::memory_order_release);
}

}  // namespace courier::storage
