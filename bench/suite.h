// The standard suite: every configuration in one run, the scale points, and
// the report (results.md, data files, gnuplot scripts) in one directory.
#pragma once

#include <string>
#include <vector>

#include "load.h"

namespace courier::bench {

// One line describing a finished run, for the terminal.
std::string FormatRun(const LoadSpec& spec, const LoadResult& r);

// courier_bench suite --out DIR [--quick] [--plugin PATH] [--mosquitto PATH]
int RunSuite(const std::vector<std::string>& argv, const std::string& default_plugin,
             const std::string& default_mosquitto);

}  // namespace courier::bench
