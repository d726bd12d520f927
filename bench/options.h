// Command-line parsing shared by the bench's subcommands: --key value pairs
// and bare --flags.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace courier::bench {

class Args {
 public:
  // Flags are options that take no value.
  Args(const std::vector<std::string>& argv, const std::set<std::string>& flags);
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  bool Has(const std::string& key) const { return values_.count(key) > 0; }
  std::string Str(const std::string& key, const std::string& def) const;
  double Num(const std::string& key, double def);
  // Fails when an option was given that no one asked for.
  bool CheckAllUsed();

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> used_;
  std::string error_;
};

}  // namespace courier::bench
