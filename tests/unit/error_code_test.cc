// The wire error codes: every code has its own name, and docs/protocol.md's
// table of codes says the same names and classes as core/error_code.cc.
#include "error_code.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace courier::core {
namespace {

// `| \`name\` | transient |` rows of docs/protocol.md: name -> class
// (transient, permanent, or "(notice)" for a code that answers no publish).
std::map<std::string, std::string> DocumentedCodes() {
  std::ifstream in(std::string(COURIER_SOURCE_DIR) + "/docs/protocol.md");
  std::stringstream text;
  text << in.rdbuf();
  std::map<std::string, std::string> codes;
  static const std::regex row(R"(^\| `([a-z_]+)` \| (transient|permanent|\(notice\)) \|)");
  std::string line;
  while (std::getline(text, line)) {
    std::smatch m;
    if (std::regex_search(line, m, row)) codes[m[1]] = m[2];
  }
  return codes;
}

TEST(ErrorCodeTable, NamesAreDistinct) {
  std::set<std::string_view> names;
  for (int i = 0; i < static_cast<int>(ErrorCode::kCount); ++i) {
    EXPECT_TRUE(names.insert(Name(static_cast<ErrorCode>(i))).second) << Name(static_cast<ErrorCode>(i));
  }
}

TEST(ErrorCodeTable, ProtocolDocListsEveryCodeWithItsClass) {
  const auto documented = DocumentedCodes();
  ASSERT_FALSE(documented.empty()) << "no error table found in docs/protocol.md";
  std::set<std::string> known;
  for (int i = 0; i < static_cast<int>(ErrorCode::kCount); ++i) {
    const auto code = static_cast<ErrorCode>(i);
    const std::string name(Name(code));
    known.insert(name);
    auto it = documented.find(name);
    ASSERT_NE(it, documented.end()) << name << " is missing from docs/protocol.md";
    if (code == ErrorCode::kExpired) {
      EXPECT_EQ(it->second, "(notice)") << name;
      EXPECT_FALSE(IsTransient(code));
      continue;
    }
    EXPECT_EQ(it->second, IsTransient(code) ? "transient" : "permanent") << name;
  }
  for (const auto& [name, cls] : documented) {
    EXPECT_TRUE(known.count(name)) << "docs/protocol.md lists " << name << ", which core/error_code.h does not have";
  }
}

}  // namespace
}  // namespace courier::core
