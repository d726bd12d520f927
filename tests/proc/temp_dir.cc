#include "proc/temp_dir.h"

#include <stdlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <utility>

namespace courier::proc {

std::string MakeTempDir(const std::string& prefix, const std::string& base, std::string* error) {
  std::string tmpl = base + "/" + prefix + "XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    if (error != nullptr) *error = "mkdtemp " + tmpl + ": " + std::strerror(errno);
    return {};
  }
  return tmpl;
}

void RemoveTree(const std::string& path) {
  if (path.empty() || path == "/") return;
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

bool KeepRequested(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && std::string(value) == "1";
}

TempDir::TempDir(const std::string& prefix, const std::string& base) : path_(MakeTempDir(prefix, base, &error_)) {}

TempDir::~TempDir() {
  if (!keep_) RemoveTree(path_);
}

TempDir::TempDir(TempDir&& other) noexcept
    : path_(std::exchange(other.path_, {})), error_(std::move(other.error_)), keep_(other.keep_) {}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    if (!keep_) RemoveTree(path_);
    path_ = std::exchange(other.path_, {});
    error_ = std::move(other.error_);
    keep_ = other.keep_;
  }
  return *this;
}

}  // namespace courier::proc
