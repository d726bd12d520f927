// courier: the command-line client of the Courier protocol.
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
#include <nlohmann/json.hpp>

#include "commands.h"
#include "connection.h"
#include "print.h"

namespace courier::cli {
namespace {

constexpr std::string_view kCommonHelp = R"(Connection options:
  -h, --host HOST       broker host (default localhost)
  -p, --port PORT       broker port (default 1883)
  -u, --user USER       MQTT username, the Courier user (required)
  -P, --password PASS   MQTT password
  -i, --device ID       MQTT client id, the Courier device (default USER-cli)
      --prefix P        topic prefix (default msg)
      --cafile FILE     use TLS, trusting the CAs in FILE (PEM)
      --capath DIR      use TLS, trusting the CAs in DIR
      --cert FILE       TLS client certificate (with --key)
      --key FILE        TLS client key
      --insecure        TLS without checking the server's host name
      --help            show this help
)";

constexpr std::string_view kMainUsage = R"(usage: courier COMMAND [options]

Commands:
  send      send one message and wait for the server's acknowledgement
  listen    print messages and their ticks (sent, delivered, read) as they change
  sync      print what this device has not seen yet, then exit
  read      mark entries of your log read (or received)
  typing    tell a user or group that you are typing (or another activity)
  chat      interactive two-way chat in the terminal
  admin     groups, users and stats through the $CONTROL API (admin users only)
  inspect   read-only dump of a store directory (users, heads, cursors, entries)
  push-gateway  a reference push gateway: prints the push calls it receives

Run `courier COMMAND --help` for the options of a command.

Exit codes: 0 ok, 1 usage, 2 connection, 3 rejected by the server, 4 timeout,
5 internal, 6 store cannot be opened (inspect).
)";

constexpr std::string_view kSendUsage = R"(usage: courier send [options] (--to USER | --group GROUP) TEXT...
       courier send [options] (--to USER | --group GROUP) --edit ID TEXT...
       courier send [options] (--to USER | --group GROUP) --recall ID

Publishes TEXT (several words are joined with spaces) and waits for the
SENDER acknowledgement, retrying the same id with backoff (also across
reconnects) until the timeout. Prints `sent id=ID offset=N user_offset=M`.

Send options:
      --to USER         receiving user
      --group GROUP     receiving group (instead of --to)
      --id ID           message id (default: 16 random hex characters)
      --type N          application-defined message type (default 0)
      --expiry S        seconds the server may hold it undelivered (default: server's)
      --priority N      0 (highest) .. 15 (lowest) (default 0)
      --transient       fire-and-forget: not stored, online devices only
      --edit ID         change message ID (sent by this user to the same
                        user or group) to TEXT
      --recall ID       take message ID back: its content is erased everywhere
      --timeout S       give up after S seconds (default 10)
)";

constexpr std::string_view kListenUsage = R"(usage: courier listen [options]

Prints every message of the user's log once, in offset order, and every tick
change (sent, delivered, read), activity and error, one line each. Reconnects
by itself and catches up after each reconnect.

Listen options:
      --pull            start with what this device has not acknowledged yet
                        (the server's cursor); default: only what arrives now
      --from-start      start with the whole log
      --from N          start after offset N
      --state FILE      keep the cursor in FILE and continue from it next time
      --ack             send a `received` receipt for each incoming message
      --read            send a `read` receipt for each incoming message
      --count N         exit after printing N message lines
      --timeout S       exit after S seconds (default: run until SIGINT/SIGTERM)
)";

constexpr std::string_view kSyncUsage = R"(usage: courier sync [options]

Catches up and exits: prints every message after the starting point, then
`synced head=H cursor=C`.

Sync options:
      --state FILE      continue from (and update) the cursor in FILE
      --from-start      start with the whole log
      --from N          start after offset N
                        (default: after this device's cursor on the server)
      --ack             send a `received` receipt for each incoming message
      --read            send a `read` receipt for each incoming message
      --timeout S       give up after S seconds (default 30)
)";

constexpr std::string_view kReadUsage = R"(usage: courier read [options] OFFSET...

Marks the entries at OFFSET (positions in your own log) read, so their
senders see the read tick. Prints `marked offset=N state=read` for each.

Read options:
      --received        mark them received (delivered) only
      --timeout S       give up after S seconds (default 10)
)";

constexpr std::string_view kTypingUsage = R"(usage: courier typing [options] (--to USER | --group GROUP)

Sends an activity signal (not stored). Prints `activity to=USER status=S`.

Typing options:
      --to USER         the user to tell
      --group GROUP     the group to tell (instead of --to)
      --status S        TYPING (default), PAUSED, RECORDING, PLAYED, CHATTING,
                        CANCELLED, RESUME, NOTIFICATION, or 1..8
      --timeout S       give up after S seconds (default 10)
)";

constexpr std::string_view kChatUsage = R"(usage: courier chat [options] (--to USER | --group GROUP)

An interactive chat: every line typed is sent; incoming messages and the
ticks of yours are shown as they change:
  < bob #3: hello                   a message from bob (conversation position 3)
  > me #4: hi (sent)                yours, accepted by the server
  > me #4: delivered                ... then received by a device of bob
  > me #4: read                     ... then read
  * bob is TYPING
Incoming messages are marked read. Ctrl-D (end of input) waits for pending
sends, then exits; /quit exits at once.

Chat options:
      --to USER         chat with this user
      --group GROUP     chat in this group
      --no-read         mark incoming messages received, not read
      --timeout S       at the end, wait at most S seconds for pending sends (default 10)
)";

constexpr std::string_view kAdminUsage = R"(usage: courier admin [options] COMMAND [ARGS...]

Runs one command of the $CONTROL/courier/v1 API and prints its `data` as one
line of JSON (nothing for commands without data). Only users listed in the
broker's plugin_opt_admin_users may use it.

Commands:
  create-group GROUP [MEMBER...]   createGroup
  delete-group GROUP               deleteGroup
  add-member GROUP USER            addGroupMember
  remove-member GROUP USER         removeGroupMember
  list-groups                      listGroups   -> {"groups":[...]}
  get-group GROUP                  getGroup     -> {"group":..,"members":[...]}
  get-user USER                    getUser      -> {"user":..,"head":..,"devices":[...],"undelivered":..}
  stats                            getStats     -> {counters...}
  raw JSON                         send JSON ({"commands":[{...}]}) as it is; prints the
                                   whole response

Admin options:
      --pretty          indent the JSON
      --timeout S       give up after S seconds (default 10)
)";

constexpr std::string_view kInspectUsage = R"(usage: courier inspect [options] DIR

Prints the contents of the Courier store in DIR (plugin_opt_db_path) without
changing it; safe while the broker runs. One record per line:
  store path=DIR schema=2
  table name=NAME entries=N
  head user=U offset=N
  cursor user=U device=D offset=N
  conv key=K offset=N
  dedup sender=U id=ID offset=N
  entry user=U offset=N user_offset=M from=.. to=.. kind=.. id=.. [..] peer=U/N "PAYLOAD"

Inspect options:
      --user U          only the rows of user U
      --no-entries      skip the log entries
      --limit N         at most the N newest entries per user
)";

constexpr std::string_view kPushGatewayUsage = R"(usage: courier push-gateway [options]

Receives the calls the plugin makes to plugin_opt_push_url (docs/push.md)
and prints one line per call:
  push user=U device=D app=A token=T id=ID from=U signal_offset=N user_offset=M count=C undelivered=K priority=P [group=G] [payload=B64] key=U/D/N signature=ok|bad|none|unchecked
Point the plugin at it with plugin_opt_push_url http://127.0.0.1:PORT/push.

Push gateway options:
      --host H          listen on H (default 127.0.0.1)
      --port N          listen on port N (default 8787; 0: a free one)
      --secret S        plugin_opt_push_secret: check X-Courier-Signature,
                        answer 401 to calls that do not carry it
      --status N        answer every call with status N (default 200; 410
                        tells the plugin the token is gone)
)";

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Thrown to print a help text on stdout and exit 0.
struct HelpRequested {
  std::string text;
};

std::string_view usage_text(std::string_view cmd) {
  if (cmd == "send") return kSendUsage;
  if (cmd == "listen") return kListenUsage;
  if (cmd == "sync") return kSyncUsage;
  if (cmd == "read") return kReadUsage;
  if (cmd == "typing") return kTypingUsage;
  if (cmd == "chat") return kChatUsage;
  if (cmd == "admin") return kAdminUsage;
  if (cmd == "inspect") return kInspectUsage;
  if (cmd == "push-gateway") return kPushGatewayUsage;
  return {};
}

std::string full_help(std::string_view cmd) {
  constexpr std::string_view kExits =
      "\nExit codes: 0 ok, 1 usage, 2 connection, 3 rejected by the server, 4 timeout,\n"
      "5 internal, 6 store cannot be opened (inspect). See tools/README.md.\n";
  if (cmd == "inspect" || cmd == "push-gateway") return fmt::format("{}{}", usage_text(cmd), kExits);
  return fmt::format("{}\n{}{}", usage_text(cmd), kCommonHelp, kExits);
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

client::TlsOptions& tls_of(client::Options& o) {
  if (!o.tls) o.tls = client::TlsOptions{};
  return *o.tls;
}

// Consumes a connection option; false when `opt` is not one.
bool parse_common(std::string_view opt, Args& args, CommonOptions& c) {
  client::Options& o = c.client;
  if (opt == "-h" || opt == "--host") {
    o.host = args.value(opt);
  } else if (opt == "-p" || opt == "--port") {
    o.port = static_cast<int>(parse_int(opt, args.value(opt), 1, 65535));
  } else if (opt == "-u" || opt == "--user") {
    o.user = args.value(opt);
  } else if (opt == "-P" || opt == "--password") {
    o.password = args.value(opt);
  } else if (opt == "-i" || opt == "--device") {
    o.device = args.value(opt);
  } else if (opt == "--prefix") {
    o.prefix = args.value(opt);
  } else if (opt == "--cafile") {
    tls_of(o).ca_file = args.value(opt);
  } else if (opt == "--capath") {
    tls_of(o).ca_path = args.value(opt);
  } else if (opt == "--cert") {
    tls_of(o).cert_file = args.value(opt);
  } else if (opt == "--key") {
    tls_of(o).key_file = args.value(opt);
  } else if (opt == "--insecure") {
    tls_of(o).insecure = true;
  } else {
    return false;
  }
  return true;
}

void finish_common(CommonOptions& c) {
  client::Options& o = c.client;
  if (o.user.empty()) throw UsageError("-u USER is required");
  if (o.device.empty()) o.device = o.user + "-cli";
  if (o.prefix.empty()) throw UsageError("--prefix must not be empty");
  if (o.tls && o.tls->ca_file.empty() && o.tls->ca_path.empty()) {
    throw UsageError("TLS options need --cafile or --capath");
  }
  if (o.tls && o.tls->cert_file.empty() != o.tls->key_file.empty()) {
    throw UsageError("--cert and --key go together");
  }
}

// Runs the option loop of a command: `handle` consumes command options and
// positionals (returns false for unknown ones); connection options are
// consumed when `common` is given.
template <typename Handle>
void parse_options(std::string_view cmd, Args& args, CommonOptions* common, Handle handle) {
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

bool parse_target(std::string_view a, Args& args, Target& t) {
  if (a == "--to") {
    t.user = args.value(a);
  } else if (a == "--group") {
    t.group = args.value(a);
  } else {
    return false;
  }
  return true;
}

void check_target(const Target& t) {
  if (t.empty()) throw UsageError("--to USER or --group GROUP is required");
  if (!t.user.empty() && !t.group.empty()) throw UsageError("give --to or --group, not both");
}

// --pull / --from-start / --from N / --state FILE
bool parse_start(std::string_view a, Args& args, client::Options& o, bool* chosen) {
  if (a == "--pull") {
    o.start_from = client::StartFrom::kServerCursor;
  } else if (a == "--from-start") {
    o.start_from = client::StartFrom::kBeginning;
  } else if (a == "--from") {
    o.start_after = static_cast<int32_t>(parse_int(a, args.value(a), 0, INT32_MAX));
  } else if (a == "--state") {
    o.cursor_file = args.value(a);
    return true;  // not a choice of starting point
  } else {
    return false;
  }
  if (*chosen) throw UsageError("give only one of --pull, --from-start, --from");
  *chosen = true;
  return true;
}

SendOptions parse_send(Args& args) {
  SendOptions o;
  std::vector<std::string> words;
  parse_options("send", args, &o.common, [&](std::string_view a, bool positional) {
    if (positional) {
      words.emplace_back(a);
    } else if (parse_target(a, args, o.to)) {
    } else if (a == "--id") {
      o.id = args.value(a);
    } else if (a == "--type") {
      o.type = static_cast<uint32_t>(parse_int(a, args.value(a), 0, UINT32_MAX));
    } else if (a == "--expiry") {
      o.expiry = static_cast<uint32_t>(parse_int(a, args.value(a), 0, UINT32_MAX));
    } else if (a == "--priority") {
      o.priority = static_cast<uint32_t>(parse_int(a, args.value(a), 0, 15));
    } else if (a == "--transient") {
      o.transient = true;
    } else if (a == "--edit") {
      o.edit = args.value(a);
    } else if (a == "--recall") {
      o.recall = args.value(a);
    } else if (a == "--timeout") {
      o.timeout_s = parse_seconds(a, args.value(a));
    } else {
      return false;
    }
    return true;
  });
  check_target(o.to);
  if (!o.edit.empty() && !o.recall.empty()) throw UsageError("give --edit or --recall, not both");
  if (!o.recall.empty()) {
    if (!words.empty()) throw UsageError("--recall takes no TEXT");
    return o;
  }
  if (words.empty()) throw UsageError("TEXT is required");
  for (const auto& w : words) o.text += (o.text.empty() ? "" : " ") + w;
  return o;
}

ListenOptions parse_listen(Args& args, bool sync) {
  ListenOptions o;
  client::Options& c = o.common.client;
  c.start_from = sync ? client::StartFrom::kServerCursor : client::StartFrom::kNow;
  o.until_synced = sync;
  if (sync) o.timeout_s = 30;
  bool chosen = false;
  parse_options(sync ? "sync" : "listen", args, &o.common, [&](std::string_view a, bool) {
    if (a == "--pull" && sync) return false;
    if (parse_start(a, args, c, &chosen)) {
    } else if (a == "--ack") {
      o.ack = true;
    } else if (a == "--read") {
      o.read = true;
    } else if (a == "--count" && !sync) {
      o.count = parse_int(a, args.value(a), 1, INT64_MAX);
    } else if (a == "--timeout") {
      o.timeout_s = parse_seconds(a, args.value(a));
    } else {
      return false;
    }
    return true;
  });
  return o;
}

ReadOptions parse_read(Args& args) {
  ReadOptions o;
  parse_options("read", args, &o.common, [&](std::string_view a, bool positional) {
    if (positional) {
      o.offsets.push_back(static_cast<int32_t>(parse_int("OFFSET", std::string(a), 1, INT32_MAX)));
    } else if (a == "--received") {
      o.read = false;
    } else if (a == "--timeout") {
      o.timeout_s = parse_seconds(a, args.value(a));
    } else {
      return false;
    }
    return true;
  });
  if (o.offsets.empty()) throw UsageError("OFFSET is required");
  return o;
}

TypingOptions parse_typing(Args& args) {
  TypingOptions o;
  parse_options("typing", args, &o.common, [&](std::string_view a, bool positional) {
    if (positional) return false;
    if (parse_target(a, args, o.to)) {
    } else if (a == "--status") {
      const std::string s = args.value(a);
      auto st = parse_status(s);
      if (!st) throw UsageError(fmt::format("--status: unknown status '{}'", s));
      o.status = *st;
    } else if (a == "--timeout") {
      o.timeout_s = parse_seconds(a, args.value(a));
    } else {
      return false;
    }
    return true;
  });
  check_target(o.to);
  return o;
}

ChatOptions parse_chat(Args& args) {
  ChatOptions o;
  parse_options("chat", args, &o.common, [&](std::string_view a, bool positional) {
    if (positional) return false;
    if (parse_target(a, args, o.with)) {
    } else if (a == "--no-read") {
      o.mark_read = false;
    } else if (a == "--timeout") {
      o.timeout_s = parse_seconds(a, args.value(a));
    } else {
      return false;
    }
    return true;
  });
  check_target(o.with);
  return o;
}

AdminOptions parse_admin(Args& args) {
  AdminOptions o;
  std::vector<std::string> words;
  parse_options("admin", args, &o.common, [&](std::string_view a, bool positional) {
    if (positional) {
      words.emplace_back(a);
    } else if (a == "--pretty") {
      o.pretty = true;
    } else if (a == "--timeout") {
      o.timeout_s = parse_seconds(a, args.value(a));
    } else {
      return false;
    }
    return true;
  });
  if (words.empty()) throw UsageError("COMMAND is required");
  const std::string sub = words[0];
  const std::vector<std::string> rest(words.begin() + 1, words.end());
  auto need = [&](size_t min, size_t max, const char* shape) {
    if (rest.size() < min || rest.size() > max) {
      throw UsageError(fmt::format("usage: courier admin {} {}", sub, shape));
    }
  };
  nlohmann::json cmd;
  if (sub == "create-group") {
    need(1, SIZE_MAX, "GROUP [MEMBER...]");
    cmd = {{"command", "createGroup"}, {"group", rest[0]}};
    if (rest.size() > 1) cmd["members"] = std::vector<std::string>(rest.begin() + 1, rest.end());
  } else if (sub == "delete-group") {
    need(1, 1, "GROUP");
    cmd = {{"command", "deleteGroup"}, {"group", rest[0]}};
  } else if (sub == "add-member") {
    need(2, 2, "GROUP USER");
    cmd = {{"command", "addGroupMember"}, {"group", rest[0]}, {"user", rest[1]}};
  } else if (sub == "remove-member") {
    need(2, 2, "GROUP USER");
    cmd = {{"command", "removeGroupMember"}, {"group", rest[0]}, {"user", rest[1]}};
  } else if (sub == "list-groups") {
    need(0, 0, "");
    cmd = {{"command", "listGroups"}};
  } else if (sub == "get-group") {
    need(1, 1, "GROUP");
    cmd = {{"command", "getGroup"}, {"group", rest[0]}};
  } else if (sub == "get-user") {
    need(1, 1, "USER");
    cmd = {{"command", "getUser"}, {"user", rest[0]}};
  } else if (sub == "stats") {
    need(0, 0, "");
    cmd = {{"command", "getStats"}};
  } else if (sub == "raw") {
    need(1, 1, "JSON");
    nlohmann::json req = nlohmann::json::parse(rest[0], nullptr, false);
    if (req.is_discarded() || !req.is_object()) throw UsageError("raw: JSON must be an object");
    o.request = req.dump();
    return o;
  } else {
    throw UsageError(fmt::format("unknown admin command '{}'", sub));
  }
  o.command = cmd["command"];
  o.correlation = client::RandomId();
  cmd["correlationData"] = o.correlation;
  o.request = nlohmann::json{{"commands", nlohmann::json::array({cmd})}}.dump();
  return o;
}

InspectOptions parse_inspect(Args& args) {
  InspectOptions o;
  parse_options("inspect", args, nullptr, [&](std::string_view a, bool positional) {
    if (positional) {
      if (!o.path.empty()) throw UsageError("only one DIR");
      o.path = std::string(a);
    } else if (a == "--user") {
      o.user = args.value(a);
    } else if (a == "--no-entries") {
      o.entries = false;
    } else if (a == "--limit") {
      o.limit = parse_int(a, args.value(a), 0, INT64_MAX);
    } else {
      return false;
    }
    return true;
  });
  if (o.path.empty()) throw UsageError("DIR is required");
  return o;
}

PushGatewayOptions parse_push_gateway(Args& args) {
  PushGatewayOptions o;
  parse_options("push-gateway", args, nullptr, [&](std::string_view a, bool positional) {
    if (positional) return false;
    if (a == "--host") {
      o.host = args.value(a);
    } else if (a == "--port") {
      o.port = static_cast<int>(parse_int(a, args.value(a), 0, 65535));
    } else if (a == "--secret") {
      o.secret = args.value(a);
    } else if (a == "--status") {
      o.status = static_cast<int>(parse_int(a, args.value(a), 200, 599));
    } else {
      return false;
    }
    return true;
  });
  return o;
}

int run(int argc, char** argv) {
  if (argc < 2) throw UsageError("missing command");
  const std::string_view cmd = argv[1];
  if (cmd == "--help" || cmd == "help" || cmd == "-h") throw HelpRequested{std::string(kMainUsage)};
  if (cmd == "--version") {
    std::printf("courier %s\n", client::Version().c_str());
    return kExitOk;
  }
  Args args(argc, argv, 2);
  if (cmd == "send") return run_send(parse_send(args));
  if (cmd == "listen") return run_listen(parse_listen(args, false));
  if (cmd == "sync") return run_listen(parse_listen(args, true));
  if (cmd == "read") return run_read(parse_read(args));
  if (cmd == "typing") return run_typing(parse_typing(args));
  if (cmd == "chat") return run_chat(parse_chat(args));
  if (cmd == "admin") {
    const AdminOptions o = parse_admin(args);
    MosquittoLibrary lib;
    return run_admin(o);
  }
  if (cmd == "inspect") return run_inspect(parse_inspect(args));
  if (cmd == "push-gateway") return run_push_gateway(parse_push_gateway(args));
  throw UsageError(fmt::format("unknown command '{}'", cmd));
}

// The usage line of the command named in argv, and where to read more.
std::string usage_for(int argc, char** argv) {
  const std::string_view cmd = argc >= 2 ? argv[1] : "";
  const std::string_view text = usage_text(cmd);
  if (!text.empty()) {
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
