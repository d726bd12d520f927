// `courier push-gateway`: a reference push gateway for development. It
// receives the calls Courier makes to plugin_opt_push_url, checks their
// signature, prints one line per call and answers with a fixed status. A
// real gateway forwards each call to FCM, APNs or UnifiedPush
// (docs/push.md).
#include <chrono>
#include <string_view>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "args.h"
#include "commands.h"
#include "http_server.h"
#include "print.h"
#include "push_body.h"
#include "session.h"

namespace courier::cli {
namespace {

// "ok", "bad" or "none" for the X-Courier-Signature header of `r`.
std::string SignatureCheck(const push::HttpRequest& r, const std::string& secret) {
  auto it = r.headers.find("x-courier-signature");
  if (it == r.headers.end()) return "none";
  if (secret.empty()) return "unchecked";
  return it->second == "sha256=" + push::HmacSha256Hex(secret, r.body) ? "ok" : "bad";
}

std::string Line(const push::HttpRequest& r, const std::string& secret) {
  auto body = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return fmt::format("call path={} not-json bytes={}", token(r.path), r.body.size());
  }
  auto field = [&](const char* name) {
    auto it = body.find(name);
    if (it == body.end()) return std::string("-");
    return it->is_string() ? token(it->get<std::string>()) : it->dump();
  };
  auto key = r.headers.find("idempotency-key");
  std::string line = fmt::format(
      "push user={} device={} app={} token={} id={} from={} signal_offset={} user_offset={} count={} "
      "undelivered={} priority={}",
      field("user"), field("device"), field("app"), field("token"), field("id"), field("from"), field("signal_offset"),
      field("user_offset"), field("count"), field("undelivered"), field("priority"));
  if (body.contains("group")) line += " group=" + field("group");
  if (body.contains("payload")) line += " payload=" + field("payload");
  line +=
      fmt::format(" key={} signature={}", key == r.headers.end() ? "-" : token(key->second), SignatureCheck(r, secret));
  return line;
}

}  // namespace

int run_push_gateway(const PushGatewayOptions& o) {
  install_stop_handlers();
  push::HttpServer server([&](const push::HttpRequest& r) {
    emit(Line(r, o.secret));
    const bool bad = !o.secret.empty() && SignatureCheck(r, o.secret) != "ok";
    return push::HttpResponse{.status = bad ? 401 : o.status, .body = "", .delay = {}};
  });
  std::string error;
  if (!server.Start(o.host, o.port, &error)) {
    emit_err(fmt::format("error: cannot listen on {}:{}: {}", o.host, o.port, error));
    return kExitConnection;
  }
  emit(fmt::format("listening url=http://{}:{}/ status={}", o.host, server.port(), o.status));
  while (!stop_requested()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  server.Stop();
  return kExitOk;
}

// The `push-gateway` command: its help, its arguments, its entry in main.cc's table.
namespace {

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

PushGatewayOptions parse_push_gateway(Args& args) {
  PushGatewayOptions o;
  parse_options(kPushGatewayCommand, args, nullptr, [&](std::string_view a, bool positional) {
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

int push_gateway_main(Args& args) { return run_push_gateway(parse_push_gateway(args)); }

}  // namespace

const Command kPushGatewayCommand{
    "push-gateway",     "a reference push gateway: prints the push calls it receives",
    kPushGatewayUsage,
    /*connects=*/false, &push_gateway_main,
};

}  // namespace courier::cli
