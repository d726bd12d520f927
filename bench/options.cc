#include "options.h"

#include <cstdlib>

namespace courier::bench {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& flags) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.rfind("--", 0) != 0 || a.size() < 3) {
      error_ = "unexpected argument '" + a + "'";
      return;
    }
    std::string key = a.substr(2), value;
    auto eq = key.find('=');
    if (eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    } else if (flags.count(key)) {
      value = "1";
    } else if (i + 1 < argv.size()) {
      value = argv[++i];
    } else {
      error_ = "--" + key + " needs a value";
      return;
    }
    values_[key] = value;
  }
}

std::string Args::Str(const std::string& key, const std::string& def) const {
  const_cast<Args*>(this)->used_.insert(key);
  auto it = values_.find(key);
  return it == values_.end() ? def : it->second;
}

double Args::Num(const std::string& key, double def) {
  used_.insert(key);
  auto it = values_.find(key);
  if (it == values_.end()) return def;
  char* end = nullptr;
  double v = std::strtod(it->second.c_str(), &end);
  if (end == it->second.c_str() || *end != '\0') {
    if (error_.empty()) error_ = "--" + key + " wants a number, got '" + it->second + "'";
    return def;
  }
  return v;
}

bool Args::CheckAllUsed() {
  for (const auto& [k, v] : values_) {
    if (!used_.count(k)) {
      if (error_.empty()) error_ = "unknown option --" + k;
    }
  }
  return error_.empty();
}

}  // namespace courier::bench
