#include "cursor_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace courier::client::detail {
namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

bool WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

std::string DirectoryOf(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

std::optional<CursorRecord> LoadCursorFile(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::nullopt;
    throw std::invalid_argument(Errno("cannot read cursor file " + path));
  }
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read cursor file " + path);
  CursorRecord r;
  bool have_cursor = false;
  std::string line;
  int version = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) { throw std::invalid_argument("cursor file " + path + ": bad line '" + line + "'"); }
    const std::string key = line.substr(0, eq);
    const std::string value = line.substr(eq + 1);
    if (key == "version") {
      version = std::atoi(value.c_str());
    } else if (key == "user") {
      r.user = value;
    } else if (key == "device") {
      r.device = value;
    } else if (key == "cursor") {
      int32_t v = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (ec != std::errc() || end != value.data() + value.size() || v < 0) {
        throw std::invalid_argument("cursor file " + path + ": bad cursor '" + value + "'");
      }
      r.cursor = v;
      have_cursor = true;
    }
  }
  if (version != 1 || !have_cursor) {
    throw std::invalid_argument("cursor file " + path + " is not a version 1 cursor file");
  }
  return r;
}

std::string SaveCursorFile(const std::string& path, const CursorRecord& record) {
  std::ostringstream text;
  text << "# courier client cursor: the highest offset delivered in order\n"
       << "version=1\n"
       << "user=" << record.user << "\n"
       << "device=" << record.device << "\n"
       << "cursor=" << record.cursor << "\n";
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create " + tmp);
  if (!WriteAll(fd, text.str()) || ::fsync(fd) != 0) {
    std::string err = Errno("cannot write " + tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return err;
  }
  if (::close(fd) != 0) {
    std::string err = Errno("cannot close " + tmp);
    ::unlink(tmp.c_str());
    return err;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = Errno("cannot rename " + tmp + " to " + path);
    ::unlink(tmp.c_str());
    return err;
  }
  // Make the rename itself durable.
  int dir = ::open(DirectoryOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return {};
}

}  // namespace courier::client::detail
