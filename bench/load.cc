#include "load.h"

#include <fcntl.h>
#include <mosquitto.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "admin.h"
#include "load_worker.h"

namespace courier::bench {
namespace {

using load::kSecond;
using load::ReadAll;
using load::Shard;
using load::WriteAll;

// One generator process, as the parent sees it.
struct Child {
  pid_t pid = -1;
  int ctl = -1, res = -1;
  bool ready = false, done = false;
  Shard shard;
};

// Why `spec` cannot run; empty when it can.
std::string CheckSpec(const LoadSpec& spec) {
  if (spec.users < 2) { return "need at least 2 users"; }
  if (spec.group_size < 2 && spec.users % 2 != 0) {
    return "1:1 needs an even number of users (user 2k talks with 2k+1)";
  }
  if (spec.group_size >= 2 && spec.mode != Mode::kCourier) { return "groups need --mode courier"; }
  if ((spec.pull || spec.receipts) && spec.mode != Mode::kCourier) { return "pull and receipts need --mode courier"; }
  return "";
}

// Creates the groups of a group load through the admin API: users
// [k*G, (k+1)*G) form group k. Fails with the server's own words.
bool CreateGroups(const LoadSpec& s, std::string* error) {
  const int groups = (s.users + s.group_size - 1) / s.group_size;
  for (int first = 0; first < groups; first += 50) {
    std::string cmds;
    for (int k = first; k < std::min(groups, first + 50); ++k) {
      std::string members;
      for (int u = k * s.group_size; u < std::min(s.users, (k + 1) * s.group_size); ++u) {
        members += (members.empty() ? "\"" : ",\"") + s.user_prefix + std::to_string(u) + "\"";
      }
      cmds += std::string(cmds.empty() ? "" : ",") + R"({"command":"createGroup","group":")" + load::GroupName(s, k) +
              R"(","members":[)" + members + "]}";
    }
    std::string reply;
    if (!proc::AdminCall(s.host, s.port, s.admin_user, R"({"commands":[)" + cmds + "]}", std::chrono::seconds(10),
                         &reply, error)) {
      *error = "cannot create groups: " + *error;
      return false;
    }
    auto at = reply.find("\"error\"");
    if (at != std::string::npos) {
      auto q1 = reply.find('"', reply.find(':', at) + 1);
      auto q2 = q1 == std::string::npos ? q1 : reply.find('"', q1 + 1);
      *error = "the server refused to create a group: " +
               (q2 == std::string::npos ? reply : reply.substr(q1 + 1, q2 - q1 - 1));
      return false;
    }
  }
  return true;
}

// A generator process: sets its clients up, says 'R' (or 'E'), waits for
// the start time, runs, and writes its Shard back.
void ChildMain(const LoadSpec& spec, int first_user, int end_user, int ctl, int res) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  ::signal(SIGPIPE, SIG_IGN);
  mosquitto_lib_init();
  auto w = std::make_unique<load::Worker>(spec, first_user, end_user);
  const bool ok = w->Setup();
  const char tag = ok ? 'R' : 'E';
  WriteAll(res, &tag, 1);
  int64_t t0 = -1;
  if (ok && ReadAll(ctl, &t0, sizeof t0, NowNs() + 3600 * kSecond) && t0 > 0) w->Run(t0);
  WriteAll(res, &w->result(), sizeof(Shard));
  w.reset();
  mosquitto_lib_cleanup();
  ::_exit(0);
}

// Forks one child per share of the users, each with a control pipe (the
// start time) and a result pipe (the 'R' and the Shard).
void ForkChildren(const LoadSpec& spec, std::vector<Child>& kids, std::string* error) {
  for (int p = 0; p < spec.procs; ++p) {
    const int first = static_cast<int>(int64_t{spec.users} * p / spec.procs);
    const int end = static_cast<int>(int64_t{spec.users} * (p + 1) / spec.procs);
    int ctl[2], res[2];
    if (::pipe2(ctl, O_CLOEXEC) != 0 || ::pipe2(res, O_CLOEXEC) != 0) {
      *error = std::string("pipe: ") + std::strerror(errno);
      break;
    }
    pid_t pid = ::fork();
    if (pid == 0) {
      for (auto& k : kids) {
        if (k.ctl >= 0) ::close(k.ctl);
        if (k.res >= 0) ::close(k.res);
      }
      ::close(ctl[1]);
      ::close(res[0]);
      ChildMain(spec, first, end, ctl[0], res[1]);
    }
    ::close(ctl[0]);
    ::close(res[1]);
    kids[size_t(p)].pid = pid;
    kids[size_t(p)].ctl = ctl[1];
    kids[size_t(p)].res = res[0];
    if (pid < 0) *error = std::string("fork: ") + std::strerror(errno);
  }
}

void ReadShard(Child& k, int64_t deadline) {
  if (!k.done && k.res >= 0 && ReadAll(k.res, &k.shard, sizeof(Shard), deadline)) k.done = true;
}

// Setup: every child connects and subscribes its share, then says 'R'.
void AwaitSetup(const LoadSpec& spec, std::vector<Child>& kids, std::string* error) {
  const int64_t setup_deadline = NowNs() + static_cast<int64_t>((spec.setup_timeout_s + 10) * 1e9);
  for (auto& k : kids) {
    if (!error->empty() || k.pid < 0) break;
    char tag = 0;
    if (!ReadAll(k.res, &tag, 1, setup_deadline)) {
      *error = "a generator process did not finish its setup in time";
    } else if (tag != 'R') {
      ReadShard(k, NowNs() + 5 * kSecond);
      *error = k.done ? k.shard.error : "a generator process failed during setup";
    } else {
      k.ready = true;
    }
  }
}

// CPU seconds of the second edge's broker and of the server tree (-1: none
// or gone), and when they were read.
struct ExtraCpu {
  double broker_b = -1, tree = -1;
  int64_t ns = 0;
};
ExtraCpu SampleExtra(const LoadSpec& spec) {
  ExtraCpu e;
  if (spec.broker_pid_b > 0) {
    const ProcSample s = SampleProc(spec.broker_pid_b);
    if (s.ok) e.broker_b = s.cpu_s;
  }
  if (spec.tree_pid > 0) e.tree = TreeCpuSeconds(spec.tree_pid);
  e.ns = NowNs();
  return e;
}
void ExtraCpuPct(const ExtraCpu& a, const ExtraCpu& b, LoadResult& out) {
  const double s = double(b.ns - a.ns) / 1e9;
  if (s <= 0) return;
  if (a.broker_b >= 0 && b.broker_b >= 0) out.broker_b_cpu_pct = 100.0 * (b.broker_b - a.broker_b) / s;
  if (a.tree >= 0 && b.tree >= 0) out.tree_cpu_pct = 100.0 * (b.tree - a.tree) / s;
}

// Samples the broker from /proc and the machine's stalls over the window
// (fill mode: until every child reported).
// Returns the end of the window.
int64_t MeasureWindow(const LoadSpec& spec, int64_t t0, std::vector<Child>& kids, LoadResult& out) {
  const bool fill = spec.max_messages > 0;
  const int64_t w0 = fill ? t0 : t0 + static_cast<int64_t>(spec.warmup_s * 1e9);
  const int64_t w1 =
      fill ? t0 + static_cast<int64_t>(spec.duration_s * 1e9) : w0 + static_cast<int64_t>(spec.duration_s * 1e9);
  SleepUntilNs(w0);
  StallProbe probe;
  probe.Start();
  ProcSample s0 = spec.broker_pid > 0 ? SampleProc(spec.broker_pid) : ProcSample{};
  const int64_t s0_ns = NowNs();
  const ExtraCpu e0 = SampleExtra(spec);
  ProcSample s1 = s0;
  int64_t s1_ns = s0_ns;
  // Sample until the window closes (fill mode: until every child reported).
  for (;;) {
    const int64_t now = NowNs();
    if (now >= w1) break;
    if (fill) {
      bool all = true;
      for (auto& k : kids) {
        if (!k.done) {
          pollfd pfd{k.res, POLLIN, 0};
          if (::poll(&pfd, 1, 0) > 0) ReadShard(k, now + 5 * kSecond);
        }
        all = all && k.done;
      }
      if (all) break;
    }
    ::usleep(static_cast<useconds_t>(std::min<int64_t>((w1 - now) / 1000 + 1, 200000)));
    if (spec.broker_pid > 0) {
      ProcSample s = SampleProc(spec.broker_pid);
      if (s.ok) {
        s1 = s;
        s1_ns = NowNs();
        out.broker_rss_max_kb = std::max(out.broker_rss_max_kb, s.rss_kb);
      }
    }
  }
  ExtraCpuPct(e0, SampleExtra(spec), out);
  out.stalls = probe.Stop();
  if (spec.broker_pid > 0 && s0.ok && s1.ok && s1_ns > s0_ns) {
    out.broker_cpu_pct = 100.0 * (s1.cpu_s - s0.cpu_s) / (double(s1_ns - s0_ns) / 1e9);
    out.broker_rss_kb = s1.rss_kb;
    out.broker_rss_anon_kb = s1.rss_anon_kb;
    out.broker_fds = s1.fds;
  }
  return w1;
}

// Ends every child by its pid; adds up their CPU time.
void ReapChildren(std::vector<Child>& kids, LoadResult& out) {
  for (auto& k : kids) {
    if (k.pid <= 0) continue;
    if (!k.done) ::kill(k.pid, SIGKILL);
    int status = 0;
    rusage ru{};
    const int64_t deadline = NowNs() + 5 * kSecond;
    while (::wait4(k.pid, &status, WNOHANG, &ru) == 0) {
      if (NowNs() > deadline) {
        ::kill(k.pid, SIGKILL);
        ::wait4(k.pid, &status, 0, &ru);
        break;
      }
      ::usleep(2000);
    }
    out.generator_cpu_s +=
        double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    if (k.ctl >= 0) ::close(k.ctl);
    if (k.res >= 0) ::close(k.res);
  }
}

void MergeShards(const LoadSpec& spec, std::vector<Child>& kids, LoadResult& out) {
  int64_t first_send = INT64_MAX, last_ack = 0;
  for (auto& k : kids) {
    if (!k.done) {
      if (out.error.empty()) out.error = "a generator process did not report (killed)";
      continue;
    }
    const Shard& s = k.shard;
    if (out.error.empty() && s.error[0]) out.error = s.error;
    if (out.first_error.empty() && s.first_error[0]) out.first_error = s.first_error;
    out.connections += s.connections;
    out.connected_at_end += s.connected_at_end;
    out.setup_s = std::max(out.setup_s, s.setup_s);
    out.sent += s.sent;
    out.sent_window += s.sent_window;
    out.acked_window += s.acked_window;
    out.expected_window += s.expected_window;
    out.delivered_window += s.delivered_window;
    out.arrived_in_window += s.arrived_in_window;
    out.device_copies += s.device_copies;
    out.errors += s.errors;
    out.disconnects += s.disconnects;
    out.deliver.Merge(s.deliver);
    out.deliver_same.Merge(s.deliver_same);
    out.deliver_cross.Merge(s.deliver_cross);
    out.ack.Merge(s.ack);
    first_send = std::min(first_send, s.first_send_ns);
    last_ack = std::max(last_ack, s.last_ack_ns);
  }
  if (spec.max_messages > 0) {
    out.window_s = last_ack > first_send ? double(last_ack - first_send) / 1e9 : 0;
    out.arrived_in_window = out.delivered_window;
  } else {
    out.window_s = spec.duration_s;
  }
}

}  // namespace

LoadResult RunLoad(const LoadSpec& in) {
  LoadResult out;
  LoadSpec spec = in;
  out.error = CheckSpec(spec);
  if (!out.error.empty()) return out;
  spec.senders_per_user = std::clamp(spec.senders_per_user, 0, spec.devices);
  spec.procs = std::clamp(spec.procs, 1, spec.users);
  if (spec.run_tag.empty()) spec.run_tag = "r" + std::to_string(EpochMs() % 100000000);
  out.offered_rate = spec.rate;
  if (spec.group_size >= 2 && !CreateGroups(spec, &out.error)) return out;

  std::vector<Child> kids(static_cast<size_t>(spec.procs));
  const int64_t started = NowNs();
  ForkChildren(spec, kids, &out.error);
  AwaitSetup(spec, kids, &out.error);
  const int64_t t0 = out.error.empty() ? NowNs() + 100'000'000 : -1;
  for (auto& k : kids) {
    if (k.ctl >= 0) WriteAll(k.ctl, &t0, sizeof t0);
  }
  if (t0 > 0) {
    const int64_t w1 = MeasureWindow(spec, t0, kids, out);
    const int64_t end_deadline = std::max(NowNs(), w1) + static_cast<int64_t>((spec.drain_s + 15) * 1e9);
    for (auto& k : kids) ReadShard(k, end_deadline);
  }
  ReapChildren(kids, out);
  out.generator_wall_s = double(NowNs() - started) / 1e9;
  MergeShards(spec, kids, out);
  return out;
}

}  // namespace courier::bench
