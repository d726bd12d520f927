#include "proc.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>
#include <vector>

namespace courier::bench {

int64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

int64_t EpochMs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
}

void SleepUntilNs(int64_t t) {
  timespec ts{};
  ts.tv_sec = t / 1000000000;
  ts.tv_nsec = t % 1000000000;
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {}
}

ProcSample SampleProc(pid_t pid) {
  ProcSample s;
  const std::string base = "/proc/" + std::to_string(pid);
  const std::string stat = ReadWholeFile(base + "/stat");
  if (stat.empty()) return s;
  // The command name is in parentheses and may contain spaces: fields start after ')'.
  auto close = stat.rfind(')');
  if (close == std::string::npos) return s;
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  // Field 3 (state) is the first after ')'; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::strtoull(f.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(f.c_str(), nullptr, 10);
  }
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  s.cpu_s = double(utime + stime) / hz;
  std::istringstream status(ReadWholeFile(base + "/status"));
  std::string line;
  auto value = [](const std::string& l) { return std::strtoll(l.c_str() + l.find(':') + 1, nullptr, 10); };
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0)
      s.rss_kb = value(line);
    else if (line.rfind("VmHWM:", 0) == 0)
      s.hwm_kb = value(line);
    else if (line.rfind("RssAnon:", 0) == 0)
      s.rss_anon_kb = value(line);
    else if (line.rfind("RssFile:", 0) == 0)
      s.rss_file_kb = value(line);
    else if (line.rfind("Threads:", 0) == 0)
      s.threads = static_cast<int>(value(line));
  }
  if (DIR* d = opendir((base + "/fd").c_str())) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') ++s.fds;
    }
    closedir(d);
  }
  s.ok = true;
  return s;
}

namespace {

// The parent pid and utime + stime + cutime + cstime (clock ticks) of one
// process, from /proc/<pid>/stat; false when it is gone.
bool StatTimes(pid_t pid, pid_t* ppid, unsigned long long* ticks) {
  const std::string stat = ReadWholeFile("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  if (close == std::string::npos || close + 2 >= stat.size()) return false;
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  *ticks = 0;
  // Field 3 (state) is the first after ')'; 4 is the ppid, 14-17 the times.
  for (int i = 3; i <= 17 && fields >> f; ++i) {
    if (i == 4) *ppid = static_cast<pid_t>(std::strtol(f.c_str(), nullptr, 10));
    if (i >= 14) *ticks += std::strtoull(f.c_str(), nullptr, 10);
  }
  return true;
}

}  // namespace

double TreeCpuSeconds(pid_t root) {
  std::multimap<pid_t, pid_t> children;  // ppid -> pid
  std::map<pid_t, unsigned long long> ticks;
  if (DIR* d = opendir("/proc")) {
    while (dirent* e = readdir(d)) {
      char* end = nullptr;
      const long p = std::strtol(e->d_name, &end, 10);
      pid_t ppid = 0;
      unsigned long long t = 0;
      if (p <= 0 || *end != '\0' || !StatTimes(static_cast<pid_t>(p), &ppid, &t)) continue;
      children.emplace(ppid, static_cast<pid_t>(p));
      ticks[static_cast<pid_t>(p)] = t;
    }
    closedir(d);
  }
  if (!ticks.contains(root)) return -1;
  unsigned long long sum = 0;
  std::vector<pid_t> todo{root};
  while (!todo.empty()) {
    const pid_t p = todo.back();
    todo.pop_back();
    sum += ticks[p];
    for (auto [it, e] = children.equal_range(p); it != e; ++it) todo.push_back(it->second);
  }
  return double(sum) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

int64_t DiskUsage(const std::string& path) {
  int64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(path, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) total += int64_t{st.st_blocks} * 512;
  }
  return total;
}

std::string CommandOutput(const std::string& command, size_t max_bytes) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
    if (out.size() < max_bytes) out.append(buf, std::min(n, max_bytes - out.size()));
  }
  ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

bool DropFileCache(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return false;
  ::fdatasync(fd);
  bool ok = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0;
  ::close(fd);
  return ok;
}

int64_t RaiseFdLimit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    ::getrlimit(RLIMIT_NOFILE, &rl);
  }
  return static_cast<int64_t>(rl.rlim_cur);
}

}  // namespace courier::bench
