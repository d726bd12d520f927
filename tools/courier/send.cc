// `courier send`: send one message through the client library and wait for
// the server's verdict (the library retries the same id until then).
#include <chrono>
#include <mutex>
#include <string>

#include <fmt/format.h>

#include "commands.h"
#include "print.h"
#include "session.h"

namespace courier::cli {

int run_send(const SendOptions& o) {
  client::Options co = o.common.client;
  co.receive = false;  // acknowledgements and errors only
  ConnectionWatch watch;
  client::Client c(co, watch.handlers());

  client::SendOptions so;
  so.id = o.id;
  so.type = o.type;
  so.expiry = o.expiry;
  so.priority = o.priority;
  so.transient = o.transient;
  so.timeout = to_ms(o.timeout_s);
  const client::Identity to{.user = o.to.user, .device = {}, .group = o.to.group};
  auto future = !o.recall.empty()   ? c.recall(o.recall, to, so)
                : !o.edit.empty()   ? c.edit(o.edit, to, o.text, so)
                : o.to.group.empty() ? c.send(o.to.user, o.text, so)
                                     : c.sendToGroup(o.to.group, o.text, so);
  c.start();
  const client::SendResult r = future.get();
  c.close(std::chrono::milliseconds(500));

  if (r.ok) {
    emit(fmt::format("sent id={} offset={} user_offset={}", token(r.id), r.offset,
                     r.user_offset));
    return kExitOk;
  }
  if (r.error_code == "connection_failed") {
    emit_err(fmt::format("error: {}", r.error_detail));
    return kExitConnection;
  }
  if (r.error_code == "timeout") {
    if (!watch.ever_online()) {
      emit_err(fmt::format("error: cannot connect: {}", watch.last_reason()));
      return kExitConnection;
    }
    emit_err(fmt::format("error: timeout: no acknowledgement (id={}, {} attempt{})", token(r.id),
                         r.attempts, r.attempts == 1 ? "" : "s"));
    return kExitTimeout;
  }
  if (r.error_code == "closed" || r.error_code == "connection_lost") {
    emit_err(fmt::format("error: {}: {}", r.error_code, r.error_detail));
    return kExitConnection;
  }
  emit_err(fmt::format("error: {}{}", r.error_code,
                       r.error_detail.empty() ? "" : ": " + r.error_detail));
  return kExitRejected;
}

}  // namespace courier::cli
