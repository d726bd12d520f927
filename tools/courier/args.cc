#include "args.h"

#include <charconv>
#include <cstdlib>

namespace courier::cli {
namespace {

constexpr std::string_view kCommonHelp = R"(Connection options:
  -h, --host HOST       broker host (default localhost)
  -p, --port PORT       broker port (default 1883)
      --websockets      MQTT over WebSocket (wss with the TLS options); the
                        port is the broker's websockets listener
      --ws-path PATH    HTTP path of the WebSocket upgrade (default /mqtt)
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

constexpr std::string_view kExits =
    "\nExit codes: 0 ok, 1 usage, 2 connection, 3 rejected by the server, 4 timeout,\n"
    "5 internal, 6 store cannot be opened (inspect). See tools/README.md.\n";

client::TlsOptions& tls_of(client::Options& o) {
  if (!o.tls) o.tls = client::TlsOptions{};
  return *o.tls;
}

}  // namespace

Args::Args(int argc, char** argv, int first) {
  for (int i = first; i < argc; ++i) args_.emplace_back(argv[i]);
}

std::string_view Args::next() {
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

std::string Args::value(std::string_view option) {
  if (pending_) {
    std::string v = std::move(*pending_);
    pending_.reset();
    return v;
  }
  if (done()) throw UsageError(fmt::format("{} needs a value", option));
  return std::string(args_[pos_++]);
}

std::string full_help(const Command& cmd) {
  if (!cmd.connects) return fmt::format("{}{}", cmd.usage, kExits);
  return fmt::format("{}\n{}{}", cmd.usage, kCommonHelp, kExits);
}

int64_t parse_int(std::string_view option, const std::string& text, int64_t min, int64_t max) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < min || v > max) {
    throw UsageError(fmt::format("{}: expected an integer in {}..{}, got '{}'", option, min, max, text));
  }
  return v;
}

double parse_seconds(std::string_view option, const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !(v > 0) || v > 1e7) {
    throw UsageError(fmt::format("{}: expected a positive number of seconds, got '{}'", option, text));
  }
  return v;
}

bool parse_common(std::string_view opt, Args& args, CommonOptions& c) {
  client::Options& o = c.client;
  if (opt == "-h" || opt == "--host") {
    o.host = args.value(opt);
  } else if (opt == "-p" || opt == "--port") {
    o.port = static_cast<int>(parse_int(opt, args.value(opt), 1, 65535));
  } else if (opt == "--websockets") {
    o.transport = client::Transport::kWebSockets;
  } else if (opt == "--ws-path") {
    o.ws_path = args.value(opt);
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
  if (!o.ws_path.starts_with("/")) throw UsageError("--ws-path must start with /");
  if (o.tls && o.tls->ca_file.empty() && o.tls->ca_path.empty()) {
    throw UsageError("TLS options need --cafile or --capath");
  }
  if (o.tls && o.tls->cert_file.empty() != o.tls->key_file.empty()) {
    throw UsageError("--cert and --key go together");
  }
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

}  // namespace courier::cli
