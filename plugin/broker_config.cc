#include "broker_config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <sstream>

namespace courier::plugin {
namespace {

// One meaningful line of the configuration, include_dir expanded.
struct Line {
  std::string key;
  std::string value;  // the rest of the line, blanks trimmed
  int section = 0;    // which listener's security options it sets (per_listener_settings)
};

std::string Trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

// Mosquitto's include_dir order (conf_includedir.c scmp_p): case-insensitive
// first, then by case.
bool IncludeOrder(const std::string& a, const std::string& b) {
  size_t i = 0;
  for (; i < a.size() && i < b.size(); ++i) {
    const int ua = std::toupper(static_cast<unsigned char>(a[i]));
    const int ub = std::toupper(static_cast<unsigned char>(b[i]));
    if (ua != ub) return ua < ub;
    if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
  }
  return a.size() < b.size();
}

class Reader {
 public:
  explicit Reader(const ConfigFiles& files) : files_(files) {}

  // Appends the lines of `path` (level 0: the main file). Returns "" or an error.
  std::string Read(const std::string& path, int level) {
    auto text = files_.read_file(path);
    if (!text) return "cannot read the broker configuration " + path;
    // Mosquitto starts every file with the default listener current.
    int section = 0;
    std::istringstream in(*text);
    std::string raw;
    while (std::getline(in, raw)) {
      if (raw.empty() || raw[0] == '#' || raw[0] == '\r') continue;
      const std::string line = Trim(raw);
      if (line.empty()) continue;
      const auto space = line.find(' ');
      Line l{line.substr(0, space), space == std::string::npos ? "" : Trim(line.substr(space + 1)), section};
      if (l.key == "listener") {
        section = ++listeners_;
        l.section = section;
      }
      if (l.key == "include_dir") {
        if (level != 0) continue;  // Mosquitto honours it in the main file only
        auto names = files_.list_dir(l.value);
        if (!names) return "cannot list include_dir " + l.value;
        std::vector<std::string> confs;
        for (const auto& n : *names) {
          if (n.size() > 5 && n.compare(n.size() - 5, 5, ".conf") == 0) confs.push_back(n);
        }
        std::sort(confs.begin(), confs.end(), IncludeOrder);
        for (const auto& n : confs) {
          std::string err = Read(l.value + "/" + n, level + 1);
          if (!err.empty()) return err;
        }
        continue;
      }
      lines_.push_back(std::move(l));
    }
    return "";
  }

  const std::vector<Line>& lines() const { return lines_; }

 private:
  const ConfigFiles& files_;
  std::vector<Line> lines_;
  int listeners_ = 0;
};

bool IsPluginLine(const Line& l) { return l.key == "plugin" || l.key == "auth_plugin"; }

std::string FirstWord(const std::string& s) { return s.substr(0, s.find(' ')); }

}  // namespace

std::string ConfigPathFromArgs(const std::vector<std::string>& argv) {
  std::string path;
  for (size_t i = 1; i + 1 < argv.size(); ++i) {
    if (argv[i] == "-c" || argv[i] == "--config-file") path = argv[++i];
  }
  return path;
}

std::variant<BrokerAccessControl, std::string> ScanBrokerConfig(const std::string& config_path,
                                                                const OwnOption& own_option, const ConfigFiles& files) {
  if (config_path.empty()) return std::string("the broker was started without -c");
  Reader reader(files);
  std::string err = reader.Read(config_path, 0);
  if (!err.empty()) return err;
  const auto& lines = reader.lines();

  BrokerAccessControl out;
  for (const auto& l : lines) {
    if (l.key == "per_listener_settings") out.per_listener_settings = (l.value == "true");
  }
  // Courier's own plugin line: the one loading Courier whose db_path (or
  // conninfo) is ours.
  std::optional<size_t> own;
  for (size_t i = 0; i < lines.size() && !own; ++i) {
    if (!IsPluginLine(lines[i]) || !files.is_courier(lines[i].value)) continue;
    for (size_t j = i + 1; j < lines.size() && !IsPluginLine(lines[j]); ++j) {
      if (lines[j].key == own_option.key &&
          (lines[j].value == own_option.value || FirstWord(lines[j].value) == own_option.value)) {
        own = i;
        break;
      }
    }
  }
  if (!own) {
    return "the broker configuration " + config_path + " has no plugin line for Courier with " +
           (own_option.secret ? "this " + own_option.key : own_option.key + " " + own_option.value);
  }
  const int scope = lines[*own].section;
  for (size_t i = 0; i < lines.size(); ++i) {
    const Line& l = lines[i];
    if (out.per_listener_settings && l.section != scope) continue;
    if (l.key == "acl_file") out.acl_files.push_back(l.value);
    if (IsPluginLine(l) && !files.is_courier(l.value)) {
      out.other_plugins.push_back(l.value);
      if (i < *own) out.plugins_before_courier.push_back(l.value);
    }
  }
  return out;
}

namespace {

std::optional<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::optional<std::vector<std::string>> ListDirectory(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return std::nullopt;
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
  ::closedir(d);
  return names;
}

std::string RealPath(const std::string& p) {
  char buf[PATH_MAX];
  return ::realpath(p.c_str(), buf) ? std::string(buf) : p;
}

std::string OwnLibraryPath() {
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&ListDirectory), &info) == 0 || !info.dli_fname) return "";
  return RealPath(info.dli_fname);
}

}  // namespace

std::variant<BrokerAccessControl, std::string> ScanOwnBrokerConfig(const OwnOption& own) {
  auto cmdline = ReadWholeFile("/proc/self/cmdline");
  if (!cmdline) return std::string("cannot read /proc/self/cmdline");
  std::vector<std::string> argv;
  std::string arg;
  for (char ch : *cmdline) {
    if (ch == '\0') {
      argv.push_back(arg);
      arg.clear();
    } else {
      arg.push_back(ch);
    }
  }
  const std::string self = OwnLibraryPath();
  if (self.empty()) return std::string("cannot find the path of Courier's own library");
  ConfigFiles files{ReadWholeFile, ListDirectory, [&](const std::string& p) { return RealPath(p) == self; }};
  return ScanBrokerConfig(ConfigPathFromArgs(argv), own, files);
}

}  // namespace courier::plugin
