// courier_bench push: send->deliver p99 with a push gateway that answers
// after 2 s, against no push, in the same run (docs/push.md). Writes
// DIR/push.md.
#pragma once

#include <string>
#include <vector>

namespace courier::bench {

int RunPushBench(const std::vector<std::string>& argv, const std::string& default_plugin,
                 const std::string& default_mosquitto);

}  // namespace courier::bench
