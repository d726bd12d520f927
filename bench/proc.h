// Small OS helpers for the bench: monotonic time, /proc sampling of the
// broker, disk usage, the page cache. Child processes, temporary
// directories, loopback ports and the broker process: tests/proc (shared
// with the tests).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "proc/read_file.h"

namespace courier::bench {

// CLOCK_MONOTONIC in ns. The same clock in every process of this machine, so
// a timestamp written into a payload by one process can be compared by another.
int64_t NowNs();
int64_t EpochMs();
void SleepUntilNs(int64_t t);

struct ProcSample {
  bool ok = false;
  double cpu_s = 0;         // utime + stime of the process, seconds
  int64_t rss_kb = 0;       // VmRSS
  int64_t hwm_kb = 0;       // VmHWM (peak RSS)
  int64_t rss_anon_kb = 0;  // RssAnon: heap, stacks, anonymous maps
  int64_t rss_file_kb = 0;  // RssFile: mapped files (the LMDB map, libraries)
  int64_t fds = 0;          // open file descriptors
  int threads = 0;
};
ProcSample SampleProc(pid_t pid);
// CPU seconds of a process tree: utime + stime + cutime + cstime of `root`
// and of every live descendant, read from /proc in one pass. A descendant
// that exits and is reaped moves its time into its parent's cutime/cstime,
// so the difference of two readings counts short-lived children (a server's
// backends, autovacuum workers) too. -1 when root is gone.
double TreeCpuSeconds(pid_t root);

// Bytes on disk of a directory tree (st_blocks * 512), like du.
int64_t DiskUsage(const std::string& path);
using courier::proc::ReadWholeFile;
// Output of a command (popen), trimmed to max_bytes.
std::string CommandOutput(const std::string& command, size_t max_bytes = 1 << 20);
// Drops the page cache pages of one file (posix_fadvise DONTNEED).
bool DropFileCache(const std::string& path);

// Raises RLIMIT_NOFILE's soft limit to its hard limit; returns the new soft limit.
int64_t RaiseFdLimit();

}  // namespace courier::bench
