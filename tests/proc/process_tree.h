// Process trees: ending a process together with everything it started, for
// servers whose workers are not the test's children (a Patroni node's
// PostgreSQL, whose postmaster Patroni detaches, and the postmaster's own
// backends), read from /proc.
//
// Ownership: nothing is kept; the caller names the root pid it is
// responsible for, and only that process and its descendants are signalled
// (never a group or a name). Threads: the functions are thread-safe.
// Failures: none are reported; a process that is already gone is skipped.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace courier::proc {

// True while `pid` exists and is neither a zombie nor dead (a zombie of a
// process we are not the parent of is reaped by someone else).
bool PidAlive(pid_t pid);
// The pids whose parent is `pid` now.
std::vector<pid_t> ChildrenOf(pid_t pid);
// True when one of `pid`'s command-line arguments contains `text`.
bool CommandLineMentions(pid_t pid, const std::string& text);
// The live pids whose command line mentions `text` (a unique path, such as
// a server's data directory: never a program's name).
std::vector<pid_t> PidsMentioning(const std::string& text);
// Freezes `root` with SIGSTOP (it can fork no more), then its children,
// their children and so on, and SIGKILLs them all: nothing of the tree
// survives, not even a process forked during the walk. Returns the pids
// signalled (root first); empty when root was not alive.
std::vector<pid_t> KillTree(pid_t root);
// Polls until none of `pids` is alive (PidAlive) or `timeout` passes; true
// when they are all gone.
bool WaitGone(const std::vector<pid_t>& pids, std::chrono::milliseconds timeout);

}  // namespace courier::proc
