// Temporary directories for the tests, the bench and the processes they
// start: made with mkdtemp, removed with everything in them at the end.
//
// Ownership: a TempDir owns its directory and removes the whole tree in its
// destructor, unless it was told to keep it (set_keep, or the environment
// variable named by KeepRequested). Moving hands the directory over.
// Threads: a TempDir is used from one thread; the free functions are
// thread-safe.
// Failures: nothing throws (but std::bad_alloc). A TempDir that could not be
// made has an empty path() and says why in error().
#pragma once

#include <string>
#include <string_view>

namespace courier::proc {

// mkdtemp of `<base>/<prefix>XXXXXX`; the new path, or empty on failure
// (*error, when given, says why).
std::string MakeTempDir(const std::string& prefix, const std::string& base = "/tmp", std::string* error = nullptr);
// Removes `path` and everything below it; ignores errors. Refuses "" and "/".
void RemoveTree(const std::string& path);
// True when the environment variable `name` is "1": the convention for
// keeping a test's directories for a post-mortem (COURIER_IT_KEEP=1).
bool KeepRequested(const char* name);

class TempDir {
 public:
  explicit TempDir(const std::string& prefix, const std::string& base = "/tmp");
  ~TempDir();  // RemoveTree unless kept
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // The directory; empty when mkdtemp failed.
  const std::string& path() const { return path_; }
  bool ok() const { return !path_.empty(); }
  // Why mkdtemp failed; empty when it did not.
  const std::string& error() const { return error_; }
  // A path inside the directory.
  std::string Sub(std::string_view name) const { return path_ + "/" + std::string(name); }
  // Keep the directory when this TempDir ends.
  void set_keep(bool keep) { keep_ = keep; }
  bool keep() const { return keep_; }

 private:
  std::string path_;
  std::string error_;
  bool keep_ = false;
};

}  // namespace courier::proc
