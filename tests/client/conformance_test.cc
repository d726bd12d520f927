// Every conformance trace of clients/conformance/ replayed against the C++
// Session (support/trace_replayer.h): one test per file.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/trace_replayer.h"

namespace {

namespace fs = std::filesystem;

std::string TraceDir() { return std::string(COURIER_SOURCE_DIR) + "/clients/conformance"; }

std::vector<std::string> TraceFiles() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(TraceDir())) {
    if (e.path().extension() == ".json") out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class Conformance : public ::testing::TestWithParam<std::string> {};

TEST_P(Conformance, Trace) {
  const auto r = courier::testing::ReplayTraceFile(TraceDir() + "/" + GetParam());
  EXPECT_GT(r.steps, 0);
  if (r.skipped > 0) { RecordProperty("skipped_throws_steps", r.skipped); }
  for (const auto& f : r.failures) ADD_FAILURE() << r.name << ": " << f;
}

INSTANTIATE_TEST_SUITE_P(Traces, Conformance, ::testing::ValuesIn(TraceFiles()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param.substr(0, info.param.size() - 5);
                           for (char& c : n) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return "t" + n;
                         });

// The suite must not pass by finding nothing, or by matching anything.
TEST(ConformanceFiles, AllFourteenTracesAreFound) { EXPECT_GE(TraceFiles().size(), 14u); }

TEST(ConformanceFiles, AWrongExpectationFails) {
  const fs::path path = fs::temp_directory_path() / "courier-conformance-wrong.json";
  std::ofstream(path) << R"({"name": "wrong", "session": {"user": "bob", "device": "b1", "cursor": 0},
    "steps": [{"do": "connect", "expect": {"subscribe": [["msg/bob/inbox"]],
               "publish": [{"topic": "msg/bob/signal", "signal": {"signalOffset": 5}}],
               "nextDeadline": null}}]})";
  const auto r = courier::testing::ReplayTraceFile(path.string());
  fs::remove(path);
  EXPECT_EQ(r.failures.size(), 3u) << "subscribe list, pull offset, pull deadline";
}

}  // namespace
