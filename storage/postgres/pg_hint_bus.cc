#include "pg_hint_bus.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include <libpq-fe.h>

namespace courier::storage {
namespace {

constexpr int kPollMs = 1000;

// A text[] literal of `items`: each element quoted, with " and \ escaped.
std::string ArrayLiteral(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('"');
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

std::string ErrorOf(PGconn* conn) {
  std::string e = conn ? PQerrorMessage(conn) : "out of memory";
  while (!e.empty() && (e.back() == '\n' || e.back() == ' ')) e.pop_back();
  std::replace(e.begin(), e.end(), '\n', ' ');
  return e;
}

}  // namespace

struct PgHintBus::Conn {
  PGconn* pg = nullptr;
  ~Conn() {
    if (pg) PQfinish(pg);
  }
};

PgHintBus::PgHintBus(PgHintBusOptions options, Deliver deliver, Log log)
    : options_(std::move(options)), deliver_(std::move(deliver)), log_(std::move(log)) {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  thread_ = std::thread([this] { Run(); });
}

PgHintBus::~PgHintBus() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  Wake();
  thread_.join();
  if (wake_fd_ >= 0) close(wake_fd_);
}

void PgHintBus::Send(std::vector<std::string> notifications) {
  if (notifications.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (auto& n : notifications) queue_.push_back(std::move(n));
    while (queue_.size() > options_.max_queued) {
      queue_.pop_front();
      ++dropped_;
    }
  }
  Wake();
}

bool PgHintBus::listening() const {
  std::lock_guard lock(mu_);
  return listening_;
}

uint64_t PgHintBus::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void PgHintBus::Wake() {
  if (wake_fd_ < 0) return;
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

void PgHintBus::DrainWake() {
  uint64_t n;
  [[maybe_unused]] ssize_t got = read(wake_fd_, &n, sizeof n);
}

void PgHintBus::Sleep(uint32_t ms) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stop_; });
}

void PgHintBus::Run() {
  uint32_t backoff = options_.reconnect_min_ms;
  bool down_logged = false;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    Conn c;
    if (Connect(&c)) {
      if (down_logged && log_) log_("hint bus: listening again on channel " + options_.channel);
      down_logged = false;
      backoff = options_.reconnect_min_ms;
      Serve(&c);
      {
        std::lock_guard lock(mu_);
        listening_ = false;
        if (stop_) return;
      }
    }
    if (!down_logged && log_) {
      log_("hint bus: " + ErrorOf(c.pg) + "; cross-edge delivery falls back to catch-up until it reconnects");
    }
    down_logged = true;
    Sleep(backoff);
    backoff = std::min(options_.reconnect_max_ms, std::max<uint32_t>(1, backoff) * 2);
  }
}

bool PgHintBus::Connect(Conn* c) {
  const std::string timeout = std::to_string(options_.connect_timeout_s);
  // Later keywords win: a connect_timeout in the conninfo overrides ours.
  const char* keys[] = {"connect_timeout", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), options_.conninfo.c_str(), nullptr};
  c->pg = PQconnectStartParams(keys, values, 1);
  if (!c->pg || PQstatus(c->pg) == CONNECTION_BAD) return false;
  // libpq would print the server's notices (a FATAL when the backend is
  // terminated) to the broker's stderr; the bus reports breaks itself.
  PQsetNoticeProcessor(
      c->pg, [](void*, const char*) {}, nullptr);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options_.connect_timeout_s);
  for (PostgresPollingStatusType st = PGRES_POLLING_WRITING; st != PGRES_POLLING_OK;) {
    if (st == PGRES_POLLING_FAILED || std::chrono::steady_clock::now() > deadline) return false;
    pollfd fds[2] = {{PQsocket(c->pg), short(st == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0},
                     {wake_fd_, POLLIN, 0}};
    poll(fds, 2, 100);
    if (fds[1].revents != 0) DrainWake();  // Serve sends what was queued meanwhile
    {
      std::lock_guard lock(mu_);
      if (stop_) return false;
    }
    if (fds[0].revents != 0) st = PQconnectPoll(c->pg);
  }
  char* channel = PQescapeIdentifier(c->pg, options_.channel.c_str(), options_.channel.size());
  if (!channel) return false;
  const std::string listen = "LISTEN " + std::string(channel);
  PQfreemem(channel);
  PGresult* r = PQexec(c->pg, listen.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  if (!ok) return false;
  std::lock_guard lock(mu_);
  listening_ = true;
  return true;
}

void PgHintBus::Serve(Conn* c) {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
    }
    if (!SendQueued(c) || !Receive(c)) return;
    pollfd fds[2] = {{PQsocket(c->pg), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    poll(fds, 2, kPollMs);
    if (fds[1].revents != 0) DrainWake();
    if (fds[0].revents != 0 && !PQconsumeInput(c->pg)) return;
  }
}

bool PgHintBus::SendQueued(Conn* c) {
  for (;;) {
    std::vector<std::string> batch;
    {
      std::lock_guard lock(mu_);
      const size_t n = std::min(queue_.size(), std::max<size_t>(1, options_.max_per_statement));
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (batch.empty()) return true;
    const std::string array = ArrayLiteral(batch);
    const char* params[] = {options_.channel.c_str(), array.c_str()};
    PGresult* r = PQexecParams(c->pg, "SELECT pg_notify($1, x) FROM unnest($2::text[]) AS x", 2, nullptr, params,
                               nullptr, nullptr, 0);
    const bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    if (ok) continue;
    const bool broken = PQstatus(c->pg) == CONNECTION_BAD;
    {
      std::lock_guard lock(mu_);
      if (broken) {
        // Maybe sent, maybe not: again after the reconnection (a repeated hint is harmless).
        for (auto it = batch.rbegin(); it != batch.rend(); ++it) queue_.push_front(std::move(*it));
        return false;
      }
      dropped_ += batch.size();  // refused (say, a full notification queue): catch-up covers it
    }
    if (log_) log_("hint bus: notify failed: " + ErrorOf(c->pg));  // outside mu_: log_ takes its own locks
  }
}

bool PgHintBus::Receive(Conn* c) {
  if (!PQconsumeInput(c->pg)) return false;
  const int own = PQbackendPID(c->pg);
  std::vector<std::string> got;
  while (PGnotify* n = PQnotifies(c->pg)) {
    if (n->be_pid != own && n->extra) got.emplace_back(n->extra);
    PQfreemem(n);
  }
  if (!got.empty() && deliver_) {
    try {
      deliver_(std::move(got));
    } catch (...) {
      // deliver_ reports its own failures; nothing may end this thread.
    }
  }
  return true;
}

}  // namespace courier::storage
