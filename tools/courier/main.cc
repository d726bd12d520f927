// courier: a minimal command-line client for the Courier protocol.
// Parses arguments, dispatches to a command, maps failures to exit codes.
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "commands.h"

namespace courier::cli {
namespace {

constexpr std::string_view kCommonHelp = R"(Connection options:
  -h, --host HOST       broker host (default localhost)
  -p, --port PORT       broker port (default 1883)
  -u, --user USER       MQTT username, the Courier user (required)
  -P, --password PASS   MQTT password
  -i, --device ID       MQTT client id, the Courier device (default USER-cli)
      --prefix P        topic prefix (default msg)
      --help            show this help
)";

constexpr std::string_view kMainUsage = R"(usage: courier COMMAND [options]

Commands:
  send      send one message and wait for the server's acknowledgement
  listen    print every message and signal addressed to a device

Run `courier COMMAND --help` for the options of a command.
)";

constexpr std::string_view kSendUsage = R"(usage: courier send [options] --to USER TEXT...

Publishes TEXT (several words are joined with spaces) to USER and waits for
the SENDER acknowledgement, retrying the same id until the timeout.
Prints `sent id=ID offset=N user_offset=M`.

Send options:
      --to USER         receiving user (required)
      --id ID           message id (default: 16 random hex characters)
      --timeout S       give up after S seconds (default 10)
)";

constexpr std::string_view kListenUsage = R"(usage: courier listen [options]

Prints every Message and Signal for the user and device, one line each.

Listen options:
      --pull            first pull the backlog after this device's cursor
      --ack             send a `received` receipt for each incoming message
      --read            send a `read` receipt for each incoming message
      --raw             also print copies of entries already printed
      --count N         exit after printing N message lines
      --timeout S       exit after S seconds (default: run until SIGINT/SIGTERM)
)";

constexpr std::string_view kExitHelp = R"(
Exit codes: 0 ok, 1 usage, 2 connection, 3 rejected by the server, 4 timeout, 5 internal.
)";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Thrown to print a help text on stdout and exit 0.
struct HelpRequested {
  std::string text;
};

enum class Command { kSend, kListen };

std::string usage_of(Command c) {
  const std::string_view head = c == Command::kSend ? kSendUsage : kListenUsage;
  return fmt::format("{}\n{}{}", head, kCommonHelp, kExitHelp);
}

// Walks argv. Long options take their value as `--opt VALUE` or `--opt=VALUE`.
class Args {
 public:
  Args(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) args_.emplace_back(argv[i]);
  }
  bool done() const { return pos_ >= args_.size(); }

  // Next argument; for `--name=value` only the `--name` part.
  std::string_view next() {
    std::string_view a = args_[pos_++];
    pending_.reset();
    if (a.starts_with("--") && !only_positionals_) {
      if (auto eq = a.find('='); eq != std::string_view::npos) {
        pending_ = std::string(a.substr(eq + 1));
        a = a.substr(0, eq);
      }
    }
    return a;
  }

  std::string value(std::string_view option) {
    if (pending_) {
      std::string v = std::move(*pending_);
      pending_.reset();
      return v;
    }
    if (done()) throw UsageError(fmt::format("{} needs a value", option));
    return std::string(args_[pos_++]);
  }

  // True when `--name=value` gave a value nobody consumed.
  bool leftover_value() const { return pending_.has_value(); }

  void stop_options() { only_positionals_ = true; }
  bool only_positionals() const { return only_positionals_; }

 private:
  std::vector<std::string_view> args_;
  size_t pos_ = 0;
  std::optional<std::string> pending_;
  bool only_positionals_ = false;
};

int64_t parse_int(std::string_view option, const std::string& text, int64_t min, int64_t max) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min || v > max) {
    throw UsageError(fmt::format("{}: expected an integer in {}..{}, got '{}'", option, min, max,
                                 text));
  }
  return v;
}

double parse_seconds(std::string_view option, const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !(v > 0) || v > 1e7) {
    throw UsageError(fmt::format("{}: expected a positive number of seconds, got '{}'", option,
                                 text));
  }
  return v;
}

// Consumes a connection option; false when `opt` is not one.
bool parse_common(std::string_view opt, Args& args, CommonOptions& c) {
  SessionOptions& s = c.session;
  if (opt == "-h" || opt == "--host") {
    s.host = args.value(opt);
  } else if (opt == "-p" || opt == "--port") {
    s.port = static_cast<int>(parse_int(opt, args.value(opt), 1, 65535));
  } else if (opt == "-u" || opt == "--user") {
    s.user = args.value(opt);
  } else if (opt == "-P" || opt == "--password") {
    s.password = args.value(opt);
  } else if (opt == "-i" || opt == "--device") {
    s.client_id = args.value(opt);
  } else if (opt == "--prefix") {
    c.prefix = args.value(opt);
  } else {
    return false;
  }
  return true;
}

void finish_common(CommonOptions& c) {
  if (c.session.user.empty()) throw UsageError("-u USER is required");
  if (c.session.client_id.empty()) c.session.client_id = c.session.user + "-cli";
  if (c.prefix.empty()) throw UsageError("--prefix must not be empty");
}

SendOptions parse_send(Args& args) {
  SendOptions o;
  std::vector<std::string> words;
  while (!args.done()) {
    const std::string_view a = args.next();
    if (args.only_positionals() || !a.starts_with("-") || a == "-") {
      words.emplace_back(a);
    } else if (a == "--") {
      args.stop_options();
    } else if (a == "--help") {
      throw HelpRequested{usage_of(Command::kSend)};
    } else if (a == "--to") {
      o.to = args.value(a);
    } else if (a == "--id") {
      o.id = args.value(a);
    } else if (a == "--timeout") {
      o.timeout_s = parse_seconds(a, args.value(a));
    } else if (!parse_common(a, args, o.common)) {
      throw UsageError(fmt::format("unknown option {}", a));
    }
    if (args.leftover_value()) throw UsageError(fmt::format("{} takes no value", a));
  }
  finish_common(o.common);
  if (o.to.empty()) throw UsageError("--to USER is required");
  if (words.empty()) throw UsageError("TEXT is required");
  for (const auto& w : words) o.text += (o.text.empty() ? "" : " ") + w;
  return o;
}

ListenOptions parse_listen(Args& args) {
  ListenOptions o;
  while (!args.done()) {
    const std::string_view a = args.next();
    if (!a.starts_with("-")) {
      throw UsageError(fmt::format("unexpected argument '{}'", a));
    } else if (a == "--help") {
      throw HelpRequested{usage_of(Command::kListen)};
    } else if (a == "--ack") {
      o.ack = true;
    } else if (a == "--read") {
      o.read = true;
    } else if (a == "--pull") {
      o.pull = true;
    } else if (a == "--raw") {
      o.raw = true;
    } else if (a == "--count") {
      o.count = parse_int(a, args.value(a), 1, INT64_MAX);
    } else if (a == "--timeout") {
      o.timeout_s = parse_seconds(a, args.value(a));
    } else if (!parse_common(a, args, o.common)) {
      throw UsageError(fmt::format("unknown option {}", a));
    }
    if (args.leftover_value()) throw UsageError(fmt::format("{} takes no value", a));
  }
  finish_common(o.common);
  return o;
}

int run(int argc, char** argv) {
  if (argc < 2) throw UsageError("missing command");
  const std::string_view cmd = argv[1];
  if (cmd == "--help" || cmd == "help") throw HelpRequested{std::string(kMainUsage)};
  Args args(argc, argv, 2);
  if (cmd == "send") {
    const SendOptions o = parse_send(args);
    MosquittoLibrary lib;
    return run_send(o);
  }
  if (cmd == "listen") {
    const ListenOptions o = parse_listen(args);
    MosquittoLibrary lib;
    return run_listen(o);
  }
  throw UsageError(fmt::format("unknown command '{}'", cmd));
}

// The usage line of the command named in argv, and where to read more.
std::string usage_for(int argc, char** argv) {
  const std::string_view cmd = argc >= 2 ? argv[1] : "";
  if (cmd == "send" || cmd == "listen") {
    const std::string text = usage_of(cmd == "send" ? Command::kSend : Command::kListen);
    return fmt::format("{}\nRun `courier {} --help` for the options.\n",
                       text.substr(0, text.find('\n')), cmd);
  }
  return std::string(kMainUsage);
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
