#include "proc/read_file.h"

#include <fstream>
#include <sstream>

namespace courier::proc {

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace courier::proc
