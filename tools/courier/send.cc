// `courier send`: publish one Message and wait for the server's verdict,
// retrying the same id (the server deduplicates) until --timeout.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <mosquitto.h>

#include "commands.h"
#include "print.h"
#include "protocol.h"

namespace courier::cli {
namespace {

// Wait after publish attempt `n` (0-based) before trying again: 0.5 s, 1 s,
// 2 s, then 4 s between attempts.
Clock::duration backoff(int n) {
  return std::chrono::milliseconds(500) * (1 << std::min(n, 3));
}

}  // namespace

int run_send(const SendOptions& o) {
  const auto deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(o.timeout_s));
  const SessionOptions& so = o.common.session;
  const Topics topics = make_topics(o.common.prefix, so.user, so.client_id);
  const std::string id = o.id.empty() ? random_id() : o.id;
  const std::string bytes = make_text_message(id, o.to, o.text).SerializeAsString();

  Session session(so);
  session.connect(deadline);
  session.subscribe({topics.events, topics.device_events}, deadline);

  int attempts = 0;
  std::vector<int> mids;
  std::string problem = "no answer from the server";
  auto next_publish = Clock::now();
  for (auto now = Clock::now(); now < deadline; now = Clock::now()) {
    if (now >= next_publish) {
      mids.push_back(session.publish(topics.send, bytes));
      next_publish = now + backoff(attempts++);
    }
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::min(next_publish, deadline) - now);
    if (!session.poll(std::max(wait, std::chrono::milliseconds(1)))) {
      throw ConnectionError("connection lost while waiting for the acknowledgement");
    }
    for (const Incoming& in : session.take_incoming()) {
      v1::Signal s;
      if (!s.ParseFromString(in.payload) || s.id() != id) continue;
      if (s.type() == kResponse && s.signal_type() == kSender && s.signal_offset_state()) {
        fmt::print("sent id={} offset={} user_offset={}\n", token(id), s.signal_offset(),
                   s.user_offset());
        std::fflush(stdout);
        session.disconnect();
        return kExitOk;
      }
      // Errors about our own publishes come on this device's events topic only.
      if (in.topic != topics.device_events) continue;
      if (s.type() == kError) {
        fmt::print(stderr, "error: {}\n", s.error().empty() ? "rejected" : s.error());
        session.disconnect();
        return kExitRejected;
      }
      if (s.type() == kResponse && !s.signal_offset_state()) {
        problem = s.error().empty() ? "transient error" : "transient error: " + s.error();
        next_publish = std::max(next_publish, Clock::now() + backoff(attempts - 1));
      }
    }
  }
  for (int mid : mids) {
    if (int reason = session.refused(mid); reason != 0) {
      problem += fmt::format("; the broker refused the publish: {}",
                             mosquitto_reason_string(reason));
      break;
    }
  }
  fmt::print(stderr, "error: timeout: {} (id={}, {} attempt{})\n", problem, token(id), attempts,
             attempts == 1 ? "" : "s");
  session.disconnect();
  return kExitTimeout;
}

}  // namespace courier::cli
