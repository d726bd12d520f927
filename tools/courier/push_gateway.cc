// `courier push-gateway`: a reference push gateway for development. It
// receives the calls Courier makes to plugin_opt_push_url, checks their
// signature, prints one line per call and answers with a fixed status. A
// real gateway forwards each call to FCM, APNs or UnifiedPush
// (docs/push.md).
#include <chrono>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

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
      field("user"), field("device"), field("app"), field("token"), field("id"), field("from"),
      field("signal_offset"), field("user_offset"), field("count"), field("undelivered"), field("priority"));
  if (body.contains("group")) line += " group=" + field("group");
  if (body.contains("payload")) line += " payload=" + field("payload");
  line += fmt::format(" key={} signature={}", key == r.headers.end() ? "-" : token(key->second),
                      SignatureCheck(r, secret));
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

}  // namespace courier::cli
