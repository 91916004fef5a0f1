// launch_local: fork/exec of the workers, line-prefixed forwarding of their output through poll(),
// and stopping every rank when one fails.
#include "xlstm/train/launcher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <thread>

#include "xlstm/train/distributed.h"

extern char** environ;

namespace xlstm::train {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kKeptLines = 20;

// One output stream of one worker: its pipe, the unfinished line, and (stderr) the last lines.
struct Stream {
  int fd = -1;
  std::ostream* sink = nullptr;
  std::string prefix, partial;
  std::deque<std::string> last;
  bool keep = false;

  void emit(const std::string& line) {
    *sink << prefix << line << "\n" << std::flush;
    if (!keep) return;
    last.push_back(line);
    if (last.size() > kKeptLines) last.pop_front();
  }
  // Reads what is there; false at end of file.
  bool drain() {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n > 0) {
        partial.append(buf, static_cast<size_t>(n));
        for (size_t nl; (nl = partial.find('\n')) != std::string::npos; partial.erase(0, nl + 1))
          emit(partial.substr(0, nl));
        continue;
      }
      if (n < 0 && (errno == EINTR)) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      if (!partial.empty()) emit(partial), partial.clear();
      ::close(fd);
      fd = -1;
      return false;
    }
  }
};

struct Worker {
  pid_t pid = -1;
  bool running = false;
  int status = 0;
  Stream out, err;
};

std::vector<std::string> worker_environment(const LaunchOptions& o, int rank, int port) {
  const std::vector<std::pair<std::string, std::string>> set{
      {"RANK", std::to_string(rank)},        {"LOCAL_RANK", std::to_string(rank)},
      {"WORLD_SIZE", std::to_string(o.nproc)}, {"LOCAL_WORLD_SIZE", std::to_string(o.nproc)},
      {"MASTER_ADDR", o.master_addr},        {"MASTER_PORT", std::to_string(port)}};
  std::vector<std::string> env;
  bool omp = false;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    const std::string key = entry.substr(0, entry.find('='));
    omp = omp || key == "OMP_NUM_THREADS";
    if (std::none_of(set.begin(), set.end(), [&](const auto& kv) { return kv.first == key; })) env.push_back(entry);
  }
  for (const auto& [key, value] : set) env.push_back(key + "=" + value);
  if (!omp) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    env.push_back("OMP_NUM_THREADS=" + std::to_string(std::max(1u, cores / static_cast<unsigned>(o.nproc))));
  }
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> p;
  for (auto& s : strings) p.push_back(s.data());
  p.push_back(nullptr);
  return p;
}

void start(Worker& w, std::vector<std::string> argv, std::vector<std::string> env) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
    throw DistributedError(std::string("launcher: cannot create a pipe: ") + std::strerror(errno));
  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  std::vector<char*> args = pointers(argv), envp = pointers(env);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw DistributedError(std::string("launcher: fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    ::execve(args[0], args.data(), envp.data());
    const char* what = "launcher: cannot execute the worker program\n";
    (void)!::write(STDERR_FILENO, what, std::strlen(what));
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  ::fcntl(out[0], F_SETFL, O_NONBLOCK);
  ::fcntl(err[0], F_SETFL, O_NONBLOCK);
  w.pid = pid;
  w.running = true;
  w.out.fd = out[0];
  w.err.fd = err[0];
}

std::string describe(int rank, int status) {
  if (WIFSIGNALED(status))
    return "rank " + std::to_string(rank) + " was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  return "rank " + std::to_string(rank) + " exited with status " + std::to_string(WEXITSTATUS(status));
}

bool failed(int status) { return !(WIFEXITED(status) && WEXITSTATUS(status) == 0); }

}  // namespace

std::string current_executable() {
  char path[4096];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) throw DistributedError(std::string("cannot read /proc/self/exe: ") + std::strerror(errno));
  return std::string(path, static_cast<size_t>(n));
}

int free_port(const std::string& addr) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw DistributedError(std::string("cannot open a socket: ") + std::strerror(errno));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = 0;
  if (::inet_pton(AF_INET, addr.c_str(), &sa.sin_addr) != 1) sa.sin_addr.s_addr = htonl(INADDR_ANY);
  socklen_t len = sizeof sa;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    throw DistributedError("cannot find a free port on " + addr + ": " + why);
  }
  ::close(fd);
  return ntohs(sa.sin_port);
}

LaunchResult launch_local(const LaunchOptions& o, std::ostream& out, std::ostream& err) {
  if (o.nproc < 1) throw DistributedError("--nproc " + std::to_string(o.nproc) + " must be 1 or more");
  if (o.command.empty()) throw DistributedError("launcher: no worker command");
  if (::access(o.command[0].c_str(), X_OK) != 0)
    throw DistributedError("launcher: " + o.command[0] + " is not an executable program: " + std::strerror(errno));
  const int port = o.master_port ? o.master_port : free_port(o.master_addr);

  std::vector<Worker> workers(static_cast<size_t>(o.nproc));
  LaunchResult result;
  const auto stop_others = [&] {
    for (auto& w : workers)
      if (w.running) ::kill(w.pid, SIGTERM);
  };
  try {
    for (int r = 0; r < o.nproc; ++r) {
      Worker& w = workers[static_cast<size_t>(r)];
      w.out.sink = &out;
      w.err.sink = &err;
      w.out.prefix = w.err.prefix = "[rank " + std::to_string(r) + "] ";
      w.err.keep = true;
      start(w, o.command, worker_environment(o, r, port));
    }
  } catch (...) {
    stop_others();
    for (auto& w : workers)
      if (w.running) ::waitpid(w.pid, nullptr, 0);
    throw;
  }

  constexpr auto never = Clock::time_point::max();
  Clock::time_point kill_at = never, give_up_output_at = never;
  for (;;) {
    std::vector<pollfd> fds;
    std::vector<Stream*> streams;
    for (auto& w : workers)
      for (Stream* s : {&w.out, &w.err})
        if (s->fd >= 0) fds.push_back({s->fd, POLLIN, 0}), streams.push_back(s);
    const bool any_running = std::any_of(workers.begin(), workers.end(), [](const Worker& w) { return w.running; });
    if (fds.empty() && !any_running) break;
    // A process the workers left behind may hold their pipes open: their output ends 1 s after them.
    if (!any_running && give_up_output_at == never) give_up_output_at = Clock::now() + std::chrono::seconds(1);
    if (Clock::now() >= give_up_output_at) {
      for (Stream* s : streams) ::close(s->fd), s->fd = -1;
      break;
    }
    ::poll(fds.data(), fds.size(), 20);
    for (size_t i = 0; i < fds.size(); ++i)
      if (fds[i].revents) streams[i]->drain();

    for (size_t r = 0; r < workers.size(); ++r) {
      Worker& w = workers[r];
      if (!w.running || ::waitpid(w.pid, &w.status, WNOHANG) != w.pid) continue;
      w.running = false;
      if (failed(w.status) && result.failed_rank < 0) {
        result.failed_rank = static_cast<int>(r);
        stop_others();
        kill_at = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o.stop_grace_seconds * 1000));
      }
    }
    if (Clock::now() >= kill_at) {
      for (auto& w : workers)
        if (w.running) ::kill(w.pid, SIGKILL);
      kill_at = never;
    }
  }

  if (result.failed_rank < 0) return result;
  Worker& f = workers[static_cast<size_t>(result.failed_rank)];
  result.exit_code = WIFSIGNALED(f.status) ? 128 + WTERMSIG(f.status) : WEXITSTATUS(f.status);
  result.message = describe(result.failed_rank, f.status);
  if (o.nproc > 1) result.message += " (the other ranks were stopped)";
  if (f.err.last.empty()) {
    result.message += "; it wrote nothing to stderr";
  } else {
    result.message += "; its last lines of stderr:";
    for (const auto& line : f.err.last) result.message += "\n  " + line;
  }
  return result;
}

std::vector<std::string> arguments_without(int argc, char** argv, const std::string& option) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    if (argv[i] == option) ++i;
    else args.push_back(argv[i]);
  }
  return args;
}

int launch_self(int nproc, const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  LaunchOptions options;
  options.nproc = nproc;
  options.command.push_back(current_executable());
  options.command.insert(options.command.end(), args.begin(), args.end());
  const LaunchResult result = launch_local(options, out, err);
  if (result.exit_code != 0) err << "error: " << result.message << "\n" << std::flush;
  return result.exit_code;
}

}  // namespace xlstm::train
