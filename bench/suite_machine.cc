// The report's machine table and the probes it needs: CPU model, memory,
// kernel, broker version, fsync latency, load average.
#include <fcntl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "report_text.h"
#include "suite_impl.h"

namespace courier::bench {

std::string Suite::Machine() {
  std::string model = "?";
  {
    std::istringstream in(ReadWholeFile("/proc/cpuinfo"));
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("model name", 0) == 0) {
        model = line.substr(line.find(':') + 2);
        break;
      }
    }
  }
  int64_t mem_kb = 0;
  {
    std::istringstream in(ReadWholeFile("/proc/meminfo"));
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("MemTotal:", 0) == 0) mem_kb = std::strtoll(line.c_str() + 9, nullptr, 10);
    }
  }
  utsname u{};
  ::uname(&u);
  std::string version = CommandOutput("'" + mosquitto + "' -h 2>&1 | head -1");
  std::ostringstream o;
  o << "| | |\n|---|---|\n";
  o << "| CPU | " << model << " |\n";
  o << "| nproc | " << sysconf(_SC_NPROCESSORS_ONLN) << " |\n";
  o << "| memory | " << Fmt("%.1f GiB", double(mem_kb) / 1048576.0) << " |\n";
  o << "| kernel | " << u.release << " (" << u.machine << ") |\n";
  o << "| broker | " << version << " |\n";
  o << "| fsync | " << Fmt("%.0f µs per 4 KiB write + fdatasync in the results directory's file system", fsync_us_)
    << " |\n";
  o << "| load average | " << load_start_ << " at the start, " << load_end_ << " at the end |\n";
  if (!note.empty()) o << "| source | " << note << " |\n";
  return o.str();
}

double MeasureFsyncUs(const std::string& dir) {
  const std::string path = dir + "/.fsync-probe";
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
  if (fd < 0) return 0;
  char block[4096] = {};
  const int n = 100;
  const int64_t t0 = NowNs();
  for (int i = 0; i < n; ++i) {
    if (::pwrite(fd, block, sizeof block, (i % 16) * 4096) < 0) break;
    ::fdatasync(fd);
  }
  const int64_t t1 = NowNs();
  ::close(fd);
  ::unlink(path.c_str());
  return double(t1 - t0) / n / 1e3;
}

std::string LoadAvg() {
  std::string s = ReadWholeFile("/proc/loadavg");
  std::istringstream in(s);
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace courier::bench
