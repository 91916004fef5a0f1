// A local launcher for data-parallel runs, as `torchrun --nproc-per-node N` on one machine: starts N
// copies of a program with the environment of distributed.h (RANK, LOCAL_RANK, WORLD_SIZE,
// LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT on a free port), forwards each line they print with a
// "[rank r] " prefix, and waits. When a rank exits non-zero or is killed by a signal, the others are
// stopped (SIGTERM, then SIGKILL after a grace period) and the result names that rank, how it ended
// and its last lines of stderr. Workers die with the launcher (PR_SET_PDEATHSIG).
#pragma once

#include <iostream>
#include <string>
#include <vector>

namespace xlstm::train {

struct LaunchOptions {
  int nproc = 1;
  std::vector<std::string> command;  // program (a path) and arguments, the same for every rank
  std::string master_addr = "127.0.0.1";
  int master_port = 0;               // 0: a free port
  double stop_grace_seconds = 5;     // between SIGTERM and SIGKILL for the other ranks after a failure
};

struct LaunchResult {
  int exit_code = 0;     // 0: every rank exited 0; else the failed rank's status, or 128 + its signal
  int failed_rank = -1;  // the first rank seen to fail
  std::string message;   // e.g. "rank 1 exited with status 1 (the other ranks were stopped); its last
                         // lines of stderr:\n  error: ..."
};

// Runs the workers to the end. Their stdout lines go to `out` and stderr lines to `err`, prefixed.
// OMP_NUM_THREADS, when not set, becomes the machine's cores / nproc (at least 1) in the workers.
// DistributedError for bad options or when a worker cannot be started.
LaunchResult launch_local(const LaunchOptions& options, std::ostream& out = std::cout, std::ostream& err = std::cerr);

// The path of the running program (/proc/self/exe), for a program that launches copies of itself.
std::string current_executable();

// argv[1..argc) without `option` and the value after it: what a program with an --nproc N option
// passes on to its workers.
std::vector<std::string> arguments_without(int argc, char** argv, const std::string& option);

// For programs with an --nproc N option: runs N copies of this program with `args` (its arguments
// without --nproc N) through launch_local, writes a failure's message as "error: ..." to `err`, and
// returns the exit status for main(). DistributedError as launch_local.
int launch_self(int nproc, const std::vector<std::string>& args, std::ostream& out = std::cout,
                std::ostream& err = std::cerr);

// A TCP port of `addr` that is free now (bound to port 0 and released).
int free_port(const std::string& addr);

}  // namespace xlstm::train
