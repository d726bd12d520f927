// `courier chat`: an interactive two-way session. The main thread reads
// lines from stdin and sends them; the client library's network thread
// prints what arrives and the ticks of our messages.
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>

#include <fmt/format.h>

#include "commands.h"
#include "print.h"
#include "session.h"

namespace courier::cli {
namespace {

// Printable text of a payload on one line (control characters escaped).
std::string text_of(const std::string& payload) {
  const std::string q = quote(payload);
  return q.substr(1, q.size() - 2);
}

// What a message shows: its text, "(edited)" after an edited one or an
// edit entry, and "message recalled" for a recalled one or a recall entry.
std::string shown_text(const client::Message& m) {
  if (m.recall || m.recalled) return "message recalled";
  if (m.edited || !m.replaces.empty()) return text_of(m.payload) + " (edited)";
  return text_of(m.payload);
}

int level(const client::AckState& s) { return s.read ? 3 : s.received ? 2 : s.sent ? 1 : 0; }

}  // namespace

int run_chat(const ChatOptions& o) {
  install_stop_handlers();
  const bool group = !o.with.group.empty();
  const std::string peer = group ? o.with.group : o.with.user;
  const std::string me = o.common.client.user;

  Waiter waiter;
  ConnectionWatch watch(&waiter);
  std::mutex mu;                       // guards the three below
  std::set<std::string> mine;          // ids sent by this session
  std::map<std::string, int> shown;    // id -> tick level printed (1 sent, 2 delivered, 3 read)
  std::map<std::string, int32_t> position;  // id -> user_offset
  int pending = 0;                     // sends without a result (under the waiter's lock)
  int failed = 0;
  bool announced = false;

  client::Client* cp = nullptr;
  auto in_chat = [&](const client::Message& m) {
    if (group) return m.to.group == peer;
    if (!m.to.group.empty()) return false;
    if (m.kind == client::Kind::kReceiver) return m.from.user == peer;
    if (m.kind == client::Kind::kDevice) return m.to.user == peer;
    return false;
  };

  client::Handlers h;
  h.on_connection = [&](const client::ConnectionEvent& e) {
    if (e.state != client::ConnectionState::kOnline || announced) return;
    announced = true;
    emit_err(fmt::format("chat with {}{} as {}/{}: type a line and press Enter to send; "
                         "Ctrl-D to end",
                         group ? "group " : "", peer, me, cp->options().device));
  };
  h.on_message = [&](const client::Message& m) {
    if (!in_chat(m)) return;
    if (m.kind == client::Kind::kReceiver) {
      emit(fmt::format("< {} #{}: {}", m.from.user, m.user_offset, shown_text(m)));
      if (m.offset > 0) {
        if (o.mark_read) {
          cp->markRead(m.offset);
        } else {
          cp->markReceived(m.offset);
        }
      }
      return;
    }
    {
      std::lock_guard lock(mu);
      if (mine.contains(m.id)) return;  // shown when the server accepted it
      shown[m.id] = level(m.state);
      position[m.id] = m.user_offset;
    }
    // Sent from another device of ours.
    emit(fmt::format("> me({}) #{}: {} ({})", m.from.device, m.user_offset, shown_text(m),
                     state_name(m.state)));
  };
  h.on_receipt = [&](const client::Receipt& r) {
    if (r.kind != client::Kind::kReceiver) return;
    if (!group && r.from.user != peer) return;
    int32_t uo = r.user_offset;
    {
      std::lock_guard lock(mu);
      auto it = shown.find(r.id);
      if (it == shown.end()) return;  // not a message of this chat that we showed
      if (level(r.state) <= it->second) return;
      it->second = level(r.state);
      if (auto p = position.find(r.id); p != position.end()) uo = p->second;
    }
    const std::string who = group ? fmt::format(" by {}", r.from.user) : "";
    emit(fmt::format("> me #{}: {}{}", uo, state_name(r.state), who));
  };
  h.on_activity = [&](const client::Activity& a) {
    if (group ? a.to.group != peer : (a.from.user != peer || !a.to.group.empty())) return;
    emit(fmt::format("* {} is {}", a.from.user, status_name(a.status)));
  };
  h.on_error = [&](const client::ServerError& e) {
    if (e.local) {
      emit_err(fmt::format("warning: {}: {}", e.code, e.detail));
    } else {
      emit(fmt::format("! error: {}{}", e.code, e.detail.empty() ? "" : ": " + e.detail));
    }
  };

  client::Options co = o.common.client;
  co.start_from = client::StartFrom::kServerCursor;  // what this device has not marked yet
  client::Client c(co, watch.handlers(h));
  cp = &c;
  c.start();

  std::string line;
  while (!stop_requested() && !watch.failed() && std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line == "/quit") break;
    client::SendOptions so;
    so.id = client::RandomId();
    {
      std::lock_guard lock(mu);
      mine.insert(so.id);
    }
    waiter.update([&] { ++pending; });
    so.on_done = [&, text = line](const client::SendResult& r) {
      if (r.ok) {
        {
          std::lock_guard lock(mu);
          int& l = shown[r.id];
          l = std::max(l, 1);
          position[r.id] = r.user_offset;
        }
        emit(fmt::format("> me #{}: {} (sent)", r.user_offset, text_of(text)));
      } else {
        emit(fmt::format("! not sent: {}{} \"{}\"", r.error_code,
                         r.error_detail.empty() ? "" : ": " + r.error_detail, text_of(text)));
      }
      waiter.update([&] {
        --pending;
        if (!r.ok) ++failed;
      });
    };
    if (group) {
      c.sendToGroup(peer, line, std::move(so));
    } else {
      c.send(peer, line, std::move(so));
    }
  }

  // End of input: let what was typed reach the server.
  const bool quit = stop_requested();
  bool all_sent = true;
  if (!quit) {
    all_sent = waiter.wait_until([&] { return pending == 0 || watch.failed(); },
                                 Clock::now() + to_ms(o.timeout_s)) &&
               !watch.failed();
  }
  c.close(std::chrono::milliseconds(1000));
  if (watch.failed()) {
    emit_err(fmt::format("error: {}", watch.last_reason()));
    return kExitConnection;
  }
  if (quit) return kExitOk;
  if (!all_sent) {
    emit_err("error: timeout: some messages were not acknowledged");
    return watch.ever_online() ? kExitTimeout : kExitConnection;
  }
  return failed > 0 ? kExitRejected : kExitOk;
}

}  // namespace courier::cli
