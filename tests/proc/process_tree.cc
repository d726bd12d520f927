#include "proc/process_tree.h"

#include <dirent.h>
#include <signal.h>

#include <cstdlib>
#include <string>
#include <thread>

#include "proc/read_file.h"

namespace courier::proc {
namespace {

// The state letter and the parent pid from /proc/<pid>/stat ("pid (comm)
// S ppid ..."; comm may contain spaces and parentheses, so parse after the
// last ')'). False when the process is gone.
bool ReadStat(pid_t pid, char* state, pid_t* ppid) {
  const std::string stat = ReadWholeFile("/proc/" + std::to_string(pid) + "/stat");
  const size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 4 >= stat.size()) return false;
  *state = stat[close + 2];
  *ppid = static_cast<pid_t>(std::strtol(stat.c_str() + close + 4, nullptr, 10));
  return true;
}

// Every numeric entry of /proc.
std::vector<pid_t> AllPids() {
  std::vector<pid_t> out;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return out;
  while (const dirent* e = ::readdir(proc)) {
    char* end = nullptr;
    const long p = std::strtol(e->d_name, &end, 10);
    if (p > 0 && *end == '\0') out.push_back(static_cast<pid_t>(p));
  }
  ::closedir(proc);
  return out;
}

}  // namespace

bool PidAlive(pid_t pid) {
  char state = 0;
  pid_t ppid = 0;
  return pid > 0 && ReadStat(pid, &state, &ppid) && state != 'Z' && state != 'X' && state != 'x';
}

std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> out;
  for (pid_t p : AllPids()) {
    char state = 0;
    pid_t ppid = 0;
    if (ReadStat(p, &state, &ppid) && ppid == pid) out.push_back(p);
  }
  return out;
}

bool CommandLineMentions(pid_t pid, const std::string& text) {
  // Arguments are separated by NULs; a match inside one argument is enough.
  const std::string cmdline = ReadWholeFile("/proc/" + std::to_string(pid) + "/cmdline");
  return !text.empty() && cmdline.find(text) != std::string::npos;
}

std::vector<pid_t> PidsMentioning(const std::string& text) {
  std::vector<pid_t> out;
  for (pid_t p : AllPids()) {
    if (PidAlive(p) && CommandLineMentions(p, text)) out.push_back(p);
  }
  return out;
}

std::vector<pid_t> KillTree(pid_t root) {
  std::vector<pid_t> tree;
  if (!PidAlive(root)) return tree;
  ::kill(root, SIGSTOP);
  tree.push_back(root);
  // Breadth first: every process is stopped before its children are listed,
  // so the list cannot miss one it forks.
  for (size_t i = 0; i < tree.size(); ++i) {
    for (pid_t child : ChildrenOf(tree[i])) {
      ::kill(child, SIGSTOP);
      tree.push_back(child);
    }
  }
  for (pid_t p : tree) ::kill(p, SIGKILL);
  return tree;
}

bool WaitGone(const std::vector<pid_t>& pids, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    bool any = false;
    for (pid_t p : pids) any = any || PidAlive(p);
    if (!any) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace courier::proc
