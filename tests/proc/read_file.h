// Reading a whole file, for logs and /proc entries the tests and the bench
// look at. Thread-safe; nothing throws.
#pragma once

#include <string>

namespace courier::proc {

// The file's bytes; empty when it cannot be opened (a log a process has not
// written yet reads as empty).
std::string ReadWholeFile(const std::string& path);

}  // namespace courier::proc
