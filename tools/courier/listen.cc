// `courier listen`: subscribe to every topic of one device and print what
// arrives, optionally pulling the backlog and sending receipts.
#include <algorithm>
#include <csignal>
#include <cstdio>
#include <set>
#include <string>

#include <fmt/format.h>

#include "commands.h"
#include "print.h"
#include "protocol.h"

namespace courier::cli {
namespace {

constexpr uint32_t kPullLimit = 100;
constexpr auto kConnectLimit = std::chrono::seconds(10);

volatile std::sig_atomic_t g_stop = 0;

void on_stop_signal(int) { g_stop = 1; }

// SIGINT and SIGTERM end the listen loop; no SA_RESTART, so they also cut
// the network wait short.
void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = &on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// Writes one line to stdout and flushes it; false when stdout is gone.
bool emit(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  return std::fflush(stdout) == 0 && !std::ferror(stdout);
}

}  // namespace

int run_listen(const ListenOptions& o) {
  install_stop_handlers();
  const auto start = Clock::now();
  std::optional<Clock::time_point> deadline;
  if (o.timeout_s) {
    deadline = start + std::chrono::duration_cast<Clock::duration>(
                           std::chrono::duration<double>(*o.timeout_s));
  }
  const auto connect_deadline = deadline ? std::min(*deadline, start + kConnectLimit)
                                         : start + kConnectLimit;
  const SessionOptions& so = o.common.session;
  const Topics topics = make_topics(o.common.prefix, so.user, so.client_id);

  Session session(so);
  session.connect(connect_deadline);
  session.subscribe({topics.inbox, topics.events, topics.device_inbox, topics.device_events},
                    connect_deadline);
  if (o.pull) session.publish(topics.signal, make_pull(-1, kPullLimit).SerializeAsString());
  bool done = !emit(fmt::format("ready user={} device={}", token(so.user), token(so.client_id)));

  std::set<int32_t> seen;    // offsets already printed (dedup of push and pull copies)
  int32_t pulled_up_to = 0;  // highest offset that arrived on the device inbox
  int64_t printed = 0;       // message lines so far
  bool timed_out = false;
  while (!done && !g_stop) {
    auto wait = std::chrono::milliseconds(200);
    if (deadline) {
      const auto now = Clock::now();
      if (now >= *deadline) {
        timed_out = true;
        break;
      }
      wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - now) +
                                std::chrono::milliseconds(1));
    }
    if (!session.poll(wait)) throw ConnectionError("connection lost");
    for (const Incoming& in : session.take_incoming()) {
      if (in.topic == topics.inbox || in.topic == topics.device_inbox) {
        v1::Message m;
        if (!m.ParseFromString(in.payload)) {
          fmt::print(stderr, "warning: undecodable Message on {} ({} bytes)\n", in.topic,
                     in.payload.size());
          continue;
        }
        const int32_t offset = m.signal_offset();
        if (in.topic == topics.device_inbox) pulled_up_to = std::max(pulled_up_to, offset);
        if (!o.raw && offset > 0 && !seen.insert(offset).second) continue;
        if (!emit(format_message(m))) {
          done = true;  // stdout is gone: nobody is listening any more
          break;
        }
        ++printed;
        if ((o.ack || o.read) && m.signal_type() == kReceiver) {
          session.publish(topics.signal, make_receipt(m, o.read).SerializeAsString());
        }
        if (o.count && printed >= *o.count) {
          done = true;
          break;
        }
      } else {
        v1::Signal s;
        if (!s.ParseFromString(in.payload)) {
          fmt::print(stderr, "warning: undecodable Signal on {} ({} bytes)\n", in.topic,
                     in.payload.size());
          continue;
        }
        if (!emit(format_signal(s))) {
          done = true;
          break;
        }
        // A full page may mean more backlog: ask for the next one.
        if (o.pull && in.topic == topics.device_events && s.type() == kResponse &&
            s.signal_request() == kPull && s.limit() >= kPullLimit && pulled_up_to > 0 &&
            pulled_up_to < s.signal_offset()) {
          session.publish(topics.signal, make_pull(pulled_up_to, kPullLimit).SerializeAsString());
        }
      }
    }
  }
  // Let receipts reach the broker before saying goodbye.
  session.flush(Clock::now() + std::chrono::seconds(2));
  session.disconnect();
  return (timed_out && o.count && printed < *o.count) ? kExitTimeout : kExitOk;
}

}  // namespace courier::cli
