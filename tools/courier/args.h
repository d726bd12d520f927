// Argument parsing shared by the commands of the CLI: the argv walker, the
// connection options every connecting command takes, the number parsers,
// and the Command record that main.cc's table is made of.
//
// Errors are thrown: UsageError (exit 1, with the command's usage line) and
// HelpRequested (the command's help on stdout, exit 0); main.cc catches them.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "commands.h"

namespace courier::cli {

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Thrown to print a help text on stdout and exit 0.
struct HelpRequested {
  std::string text;
};

// Walks argv. Long options take their value as `--opt VALUE` or `--opt=VALUE`.
class Args {
 public:
  Args(int argc, char** argv, int first);
  bool done() const { return pos_ >= args_.size(); }

  // Next argument; for `--name=value` only the `--name` part.
  std::string_view next();
  // The value of `option`: the `=value` part, else the next argument.
  std::string value(std::string_view option);

  bool leftover_value() const { return pending_.has_value(); }
  void stop_options() { only_positionals_ = true; }
  bool only_positionals() const { return only_positionals_; }

 private:
  std::vector<std::string_view> args_;
  size_t pos_ = 0;
  std::optional<std::string> pending_;
  bool only_positionals_ = false;
};

// One command of the CLI. Each command's file defines one (or two: listen
// and sync) and main.cc lists them in its table.
struct Command {
  std::string_view name;
  std::string_view summary;  // its line in `courier --help`
  std::string_view usage;    // its help; the first line is the usage line
  bool connects;             // takes the connection options (and shows them in its help)
  int (*main)(Args& args);   // parses the arguments after the name, runs, returns the exit code
};

// `courier NAME --help`: the usage, the connection options when the command
// connects, the exit codes.
std::string full_help(const Command& cmd);

// An integer in min..max, else UsageError naming `option`.
int64_t parse_int(std::string_view option, const std::string& text, int64_t min, int64_t max);
// A positive number of seconds, else UsageError naming `option`.
double parse_seconds(std::string_view option, const std::string& text);

// Consumes a connection option; false when `opt` is not one.
bool parse_common(std::string_view opt, Args& args, CommonOptions& c);
// Checks the connection options once all are read and fills in defaults.
void finish_common(CommonOptions& c);

// --to USER / --group GROUP; false when `a` is neither.
bool parse_target(std::string_view a, Args& args, Target& t);
// Exactly one of --to and --group was given, else UsageError.
void check_target(const Target& t);

// Runs the option loop of a command: `handle(arg, positional)` consumes
// command options and positionals (returns false for unknown ones);
// connection options are consumed when `common` is given.
template <typename Handle>
void parse_options(const Command& cmd, Args& args, CommonOptions* common, Handle handle) {
  while (!args.done()) {
    const std::string_view a = args.next();
    const bool positional = args.only_positionals() || !a.starts_with("-") || a == "-";
    if (!positional && a == "--") {
      args.stop_options();
      continue;
    }
    if (!positional && a == "--help") throw HelpRequested{full_help(cmd)};
    if (!handle(a, positional)) {
      if (positional) throw UsageError(fmt::format("unexpected argument '{}'", a));
      if (common == nullptr || !parse_common(a, args, *common)) {
        throw UsageError(fmt::format("unknown option {}", a));
      }
    }
    if (args.leftover_value()) throw UsageError(fmt::format("{} takes no value", a));
  }
  if (common != nullptr) finish_common(*common);
}

// The commands, each defined in the file of its name (listen and sync in
// listen.cc; inspect's in inspect_command.cc).
extern const Command kSendCommand;
extern const Command kListenCommand;
extern const Command kSyncCommand;
extern const Command kReadCommand;
extern const Command kTypingCommand;
extern const Command kChatCommand;
extern const Command kAdminCommand;
extern const Command kInspectCommand;
extern const Command kMigrateCommand;
extern const Command kPushGatewayCommand;

}  // namespace courier::cli
