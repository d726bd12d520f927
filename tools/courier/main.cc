// courier: the command-line client of the Courier protocol.
// The table of commands, `--help` and `--version`, dispatch, and the mapping
// of failures to exit codes. Each command's usage, argument parsing and run
// live in its own file (see tools/README.md).
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "args.h"
#include "commands.h"
#include "connection.h"

namespace courier::cli {
namespace {

// In the order `courier --help` lists them.
constexpr const Command* kCommands[] = {
    &kSendCommand, &kListenCommand, &kSyncCommand,    &kReadCommand,    &kTypingCommand,
    &kChatCommand, &kAdminCommand,  &kInspectCommand, &kMigrateCommand, &kPushGatewayCommand,
};

const Command* find_command(std::string_view name) {
  for (const Command* c : kCommands) {
    if (c->name == name) return c;
  }
  return nullptr;
}

std::string main_usage() {
  std::string s = "usage: courier COMMAND [options]\n\nCommands:\n";
  for (const Command* c : kCommands) {
    // Names are padded to one column; a longer name keeps two spaces.
    const size_t pad = std::max<size_t>(10 - std::min<size_t>(c->name.size(), 10), 2);
    s += fmt::format("  {}{}{}\n", c->name, std::string(pad, ' '), c->summary);
  }
  s += R"(
Run `courier COMMAND --help` for the options of a command.

Exit codes: 0 ok, 1 usage, 2 connection, 3 rejected by the server, 4 timeout,
5 internal, 6 store cannot be opened (inspect, migrate).
)";
  return s;
}

int run(int argc, char** argv) {
  if (argc < 2) throw UsageError("missing command");
  const std::string_view name = argv[1];
  if (name == "--help" || name == "help" || name == "-h") throw HelpRequested{main_usage()};
  if (name == "--version") {
    std::printf("courier %s\n", client::Version().c_str());
    return kExitOk;
  }
  const Command* cmd = find_command(name);
  if (cmd == nullptr) throw UsageError(fmt::format("unknown command '{}'", name));
  Args args(argc, argv, 2);
  return cmd->main(args);
}

// The usage line of the command named in argv, and where to read more.
std::string usage_for(int argc, char** argv) {
  const Command* cmd = argc >= 2 ? find_command(argv[1]) : nullptr;
  if (cmd != nullptr) {
    return fmt::format("{}\nRun `courier {} --help` for the options.\n", cmd->usage.substr(0, cmd->usage.find('\n')),
                       cmd->name);
  }
  return main_usage();
}

}  // namespace
}  // namespace courier::cli

int main(int argc, char** argv) {
  using namespace courier::cli;
  // Lines reach a pipe as soon as they are printed.
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  // A closed socket or pipe is reported as an error, not a silent death.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return run(argc, argv);
  } catch (const HelpRequested& h) {
    std::fputs(h.text.c_str(), stdout);
    return kExitOk;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "courier: %s\n%s", e.what(), usage_for(argc, argv).c_str());
    return kExitUsage;
  } catch (const std::invalid_argument& e) {
    // The client library refused the options (unreadable TLS or cursor file, ...).
    std::fprintf(stderr, "courier: %s\n", e.what());
    return kExitUsage;
  } catch (const ConnectionError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitConnection;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kExitInternal;
  } catch (...) {
    std::fputs("error: unknown exception\n", stderr);
    return kExitInternal;
  }
}
