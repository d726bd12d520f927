// `courier chat`: an interactive two-way session. The main thread reads
// lines from stdin and sends them; the client library's network thread
// prints what arrives and the ticks of our messages.
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "args.h"
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

// One chat session. The handlers run on the client's network thread, the
// input loop on the main thread: `mu_` guards what both touch, the waiter's
// lock the count of sends in flight.
class ChatSession {
 public:
  explicit ChatSession(const ChatOptions& o)
      : o_(o), group_(!o.with.group.empty()), peer_(group_ ? o.with.group : o.with.user), me_(o.common.client.user) {}

  int run();

 private:
  bool in_chat(const client::Message& m) const;
  client::Handlers handlers();
  void on_message(const client::Message& m);
  void on_receipt(const client::Receipt& r);
  void send_line(const std::string& line);
  void on_sent(const client::SendResult& r, const std::string& text);
  // End of input (or /quit, or a signal): the exit code.
  int finish();

  const ChatOptions& o_;
  const bool group_;
  const std::string peer_;
  const std::string me_;
  Waiter waiter_;
  ConnectionWatch watch_{&waiter_};
  std::mutex mu_;                            // guards the three below
  std::set<std::string> mine_;               // ids sent by this session
  std::map<std::string, int> shown_;         // id -> tick level printed (1 sent, 2 delivered, 3 read)
  std::map<std::string, int32_t> position_;  // id -> user_offset
  int pending_ = 0;                          // sends without a result (under the waiter's lock)
  int failed_ = 0;
  bool announced_ = false;
  client::Client* c_ = nullptr;
};

bool ChatSession::in_chat(const client::Message& m) const {
  if (group_) return m.to.group == peer_;
  if (!m.to.group.empty()) return false;
  if (m.kind == client::Kind::kReceiver) return m.from.user == peer_;
  if (m.kind == client::Kind::kDevice) return m.to.user == peer_;
  return false;
}

client::Handlers ChatSession::handlers() {
  client::Handlers h;
  h.on_connection = [this](const client::ConnectionEvent& e) {
    if (e.state != client::ConnectionState::kOnline || announced_) return;
    announced_ = true;
    emit_err(
        fmt::format("chat with {}{} as {}/{}: type a line and press Enter to send; "
                    "Ctrl-D to end",
                    group_ ? "group " : "", peer_, me_, c_->options().device));
  };
  h.on_message = [this](const client::Message& m) { on_message(m); };
  h.on_receipt = [this](const client::Receipt& r) { on_receipt(r); };
  h.on_activity = [this](const client::Activity& a) {
    if (group_ ? a.to.group != peer_ : (a.from.user != peer_ || !a.to.group.empty())) return;
    emit(fmt::format("* {} is {}", a.from.user, status_name(a.status)));
  };
  h.on_error = [](const client::ServerError& e) {
    if (e.local) {
      emit_err(fmt::format("warning: {}: {}", e.code, e.detail));
    } else {
      emit(fmt::format("! error: {}{}", e.code, e.detail.empty() ? "" : ": " + e.detail));
    }
  };
  return h;
}

void ChatSession::on_message(const client::Message& m) {
  if (!in_chat(m)) return;
  if (m.kind == client::Kind::kReceiver) {
    emit(fmt::format("< {} #{}: {}", m.from.user, m.user_offset, shown_text(m)));
    if (m.offset > 0) {
      if (o_.mark_read) {
        c_->markRead(m.offset);
      } else {
        c_->markReceived(m.offset);
      }
    }
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (mine_.contains(m.id)) return;  // shown when the server accepted it
    shown_[m.id] = level(m.state);
    position_[m.id] = m.user_offset;
  }
  // Sent from another device of ours.
  emit(fmt::format("> me({}) #{}: {} ({})", m.from.device, m.user_offset, shown_text(m), state_name(m.state)));
}

void ChatSession::on_receipt(const client::Receipt& r) {
  if (r.kind != client::Kind::kReceiver) return;
  if (!group_ && r.from.user != peer_) return;
  int32_t uo = r.user_offset;
  {
    std::lock_guard lock(mu_);
    auto it = shown_.find(r.id);
    if (it == shown_.end()) return;  // not a message of this chat that we showed
    if (level(r.state) <= it->second) return;
    it->second = level(r.state);
    if (auto p = position_.find(r.id); p != position_.end()) uo = p->second;
  }
  const std::string who = group_ ? fmt::format(" by {}", r.from.user) : "";
  emit(fmt::format("> me #{}: {}{}", uo, state_name(r.state), who));
}

void ChatSession::send_line(const std::string& line) {
  client::SendOptions so;
  so.id = client::RandomId();
  {
    std::lock_guard lock(mu_);
    mine_.insert(so.id);
  }
  waiter_.update([&] { ++pending_; });
  so.on_done = [this, text = line](const client::SendResult& r) { on_sent(r, text); };
  if (group_) {
    c_->sendToGroup(peer_, line, std::move(so));
  } else {
    c_->send(peer_, line, std::move(so));
  }
}

void ChatSession::on_sent(const client::SendResult& r, const std::string& text) {
  if (r.ok) {
    {
      std::lock_guard lock(mu_);
      int& l = shown_[r.id];
      l = std::max(l, 1);
      position_[r.id] = r.user_offset;
    }
    emit(fmt::format("> me #{}: {} (sent)", r.user_offset, text_of(text)));
  } else {
    emit(fmt::format("! not sent: {}{} \"{}\"", r.error_code, r.error_detail.empty() ? "" : ": " + r.error_detail,
                     text_of(text)));
  }
  waiter_.update([&] {
    --pending_;
    if (!r.ok) ++failed_;
  });
}

int ChatSession::run() {
  client::Options co = o_.common.client;
  co.start_from = client::StartFrom::kServerCursor;  // what this device has not marked yet
  client::Client c(co, watch_.handlers(handlers()));
  c_ = &c;
  c.start();

  std::string line;
  while (!stop_requested() && !watch_.failed() && std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line == "/quit") break;
    send_line(line);
  }
  return finish();
}

int ChatSession::finish() {
  // End of input: let what was typed reach the server.
  const bool quit = stop_requested();
  bool all_sent = true;
  if (!quit) {
    all_sent =
        waiter_.wait_until([&] { return pending_ == 0 || watch_.failed(); }, Clock::now() + to_ms(o_.timeout_s)) &&
        !watch_.failed();
  }
  c_->close(std::chrono::milliseconds(1000));
  if (watch_.failed()) {
    emit_err(fmt::format("error: {}", watch_.last_reason()));
    return kExitConnection;
  }
  if (quit) return kExitOk;
  if (!all_sent) {
    emit_err("error: timeout: some messages were not acknowledged");
    return watch_.ever_online() ? kExitTimeout : kExitConnection;
  }
  return failed_ > 0 ? kExitRejected : kExitOk;
}

}  // namespace

int run_chat(const ChatOptions& o) {
  install_stop_handlers();
  ChatSession session(o);
  return session.run();
}

// The `chat` command: its help, its arguments, its entry in main.cc's table.
namespace {

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

ChatOptions parse_chat(Args& args) {
  ChatOptions o;
  parse_options(kChatCommand, args, &o.common, [&](std::string_view a, bool positional) {
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

int chat_main(Args& args) { return run_chat(parse_chat(args)); }

}  // namespace

const Command kChatCommand{
    "chat",
    "interactive two-way chat in the terminal",
    kChatUsage,
    /*connects=*/true,
    &chat_main,
};

}  // namespace courier::cli
