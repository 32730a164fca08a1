#include "mock_hub/server/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

namespace mockhub::server {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Descriptors handed to the child sit at or above this, so that the child's dup2 onto 0..3
// never overwrites one it still needs (the parent may have closed its own stdio).
constexpr int high_fd_floor = 10;

// Everything the child needs, built before fork: after fork in a threaded process the child may
// only make async-signal-safe calls, so nothing there allocates.
struct prepared_spawn {
  std::string program;
  std::vector<std::string> strings;
  std::vector<char*> argv;
  int null_fd = -1;
  int output_fd = -1;
  rlim_t min_open_files = 0;
};

enum child_step : int { step_prctl, step_parent_gone, step_dup2, step_exec };
constexpr const char* step_names[] = {"prctl(PR_SET_PDEATHSIG)", "parent check", "dup2", "execve"};

struct child_error {
  int error;
  int step;
};

struct spawn_outcome {
  pid_t pid = -1;
  int pidfd = -1;
  int error = 0;
  const char* step = "";
};

class fd_closer {
 public:
  explicit fd_closer(int fd = -1) noexcept : fd_(fd) {}
  fd_closer(const fd_closer&) = delete;
  fd_closer& operator=(const fd_closer&) = delete;
  ~fd_closer() { reset(); }
  int get() const noexcept { return fd_; }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

int move_high(int fd) {
  if (fd < 0 || fd >= high_fd_floor) return fd;
  const int high = ::fcntl(fd, F_DUPFD_CLOEXEC, high_fd_floor);
  const int err = errno;
  ::close(fd);
  errno = err;
  return high;
}

int open_high(const char* path, int flags, mode_t mode) { return move_high(::open(path, flags | O_CLOEXEC, mode)); }

void raise_open_files(rlim_t wanted) noexcept {
  if (wanted == 0) return;
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < wanted) {
    const rlimit raised{wanted, wanted};
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;  // needs CAP_SYS_RESOURCE; else keep the hard limit
  }
  limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? std::max(limit.rlim_cur, wanted) : limit.rlim_max;
  (void)::setrlimit(RLIMIT_NOFILE, &limit);
}

[[noreturn]] void run_child(const prepared_spawn& p, int report_fd, pid_t parent) noexcept {
  const auto fail = [&report_fd](child_step step) {
    const child_error e{errno, step};
    [[maybe_unused]] const ssize_t n = ::write(report_fd, &e, sizeof e);
    ::_exit(127);
  };

  // Handlers are reset by exec anyway; ignored signals and the mask are not, and the spawner
  // thread blocks everything.
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    struct sigaction action{};
    action.sa_handler = SIG_DFL;
    (void)::sigaction(sig, &action, nullptr);
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) fail(step_prctl);
  // The parent may have died between fork and prctl; then no signal would ever come.
  if (::getppid() != parent) fail(step_parent_gone);

  if (::dup2(p.null_fd, STDIN_FILENO) < 0) fail(step_dup2);
  if (p.output_fd >= 0 && (::dup2(p.output_fd, STDOUT_FILENO) < 0 || ::dup2(p.output_fd, STDERR_FILENO) < 0)) {
    fail(step_dup2);
  }
  if (::dup2(report_fd, 3) < 0) fail(step_dup2);
  report_fd = 3;
  (void)::fcntl(report_fd, F_SETFD, FD_CLOEXEC);
  // Nothing else is inherited: not the caller's sockets, not a data-directory lock.
  if (::close_range(4, ~0U, 0) != 0) {
    rlimit limit{};
    const rlim_t top = ::getrlimit(RLIMIT_NOFILE, &limit) == 0 ? std::min<rlim_t>(limit.rlim_cur, 1 << 20) : 1024;
    for (rlim_t fd = 4; fd < top; ++fd) ::close(static_cast<int>(fd));
  }

  raise_open_files(p.min_open_files);
  ::execv(p.program.c_str(), p.argv.data());
  fail(step_exec);
  ::_exit(127);  // not reached
}

spawn_outcome fork_and_exec(const prepared_spawn& p) noexcept {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {.error = errno, .step = "pipe2"};
  fd_closer read_end(move_high(fds[0]));
  fd_closer write_end(move_high(fds[1]));
  if (read_end.get() < 0 || write_end.get() < 0) return {.error = errno, .step = "fcntl"};

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) run_child(p, write_end.get(), parent);
  if (pid < 0) return {.error = errno, .step = "fork"};
  write_end.reset();  // else read() below would never see EOF
  // The report pipe closes on a successful exec (EOF) or carries the errno of the failed step.
  child_error report{};
  ssize_t n = 0;
  do {
    n = ::read(read_end.get(), &report, sizeof report);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof report)) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return {.error = report.error, .step = step_names[report.step]};
  }
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  return {.pid = pid, .pidfd = pidfd};
}

// The thread every child is forked from. PR_SET_PDEATHSIG fires when the forking thread ends,
// not the process, so forking from a caller's short-lived thread would kill the broker with it.
// This thread lives as long as its process; it is created again in a forked child (where it
// does not exist) and never destroyed, so the objects stay reachable for LeakSanitizer.
class spawner_thread {
 public:
  static spawner_thread& instance() {
    static std::mutex guard;
    static spawner_thread* current = nullptr;
    std::lock_guard lock(guard);
    if (current == nullptr || current->owner_ != ::getpid()) current = new spawner_thread(current);
    return *current;
  }

  spawn_outcome run(const prepared_spawn& p) {
    std::packaged_task<spawn_outcome()> task([&p] { return fork_and_exec(p); });
    std::future<spawn_outcome> outcome = task.get_future();
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(task));
    }
    wake_.notify_one();
    return outcome.get();
  }

 private:
  explicit spawner_thread(spawner_thread* previous) : previous_(previous), owner_(::getpid()) {
    std::thread([this] { loop(); }).detach();
  }

  [[noreturn]] void loop() {
    // Signals for the process are handled by its other threads.
    sigset_t all;
    ::sigfillset(&all);
    ::pthread_sigmask(SIG_BLOCK, &all, nullptr);
    for (;;) {
      std::packaged_task<spawn_outcome()> task;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return !queue_.empty(); });
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }

  spawner_thread* previous_;  // a spawner inherited through fork, kept reachable
  pid_t owner_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::packaged_task<spawn_outcome()>> queue_;
};

}  // namespace

child_process child_process::spawn(const child_process_options& options) {
  prepared_spawn p;
  p.program = options.program.string();
  p.strings.push_back(options.program.filename().string());
  p.strings.insert(p.strings.end(), options.arguments.begin(), options.arguments.end());
  for (auto& s : p.strings) p.argv.push_back(s.data());
  p.argv.push_back(nullptr);
  p.min_open_files = static_cast<rlim_t>(options.min_open_files);

  fd_closer null_fd(open_high("/dev/null", O_RDONLY, 0));
  if (null_fd.get() < 0) throw std::system_error(errno, std::generic_category(), "cannot open /dev/null");
  p.null_fd = null_fd.get();
  fd_closer output_fd;
  if (!options.output_file.empty()) {
    // The log may hold client ids and user names: owner only.
    output_fd.reset(open_high(options.output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600));
    if (output_fd.get() < 0) {
      throw std::system_error(errno, std::generic_category(), "cannot open " + options.output_file.string());
    }
    p.output_fd = output_fd.get();
  }

  const spawn_outcome outcome = spawner_thread::instance().run(p);
  if (outcome.pid < 0) {
    throw std::system_error(outcome.error, std::generic_category(),
                            "cannot start " + p.program + " (" + outcome.step + ")");
  }
  child_process child;
  child.pid_ = outcome.pid;
  child.pidfd_ = outcome.pidfd;
  return child;
}

child_process::child_process(child_process&& other) noexcept
    : pid_(std::exchange(other.pid_, 0)),
      pidfd_(std::exchange(other.pidfd_, -1)),
      status_(std::exchange(other.status_, std::nullopt)),
      exited_(std::exchange(other.exited_, false)) {}

child_process& child_process::operator=(child_process&& other) noexcept {
  if (this != &other) {
    terminate(std::chrono::seconds(10));
    reset();
    pid_ = std::exchange(other.pid_, 0);
    pidfd_ = std::exchange(other.pidfd_, -1);
    status_ = std::exchange(other.status_, std::nullopt);
    exited_ = std::exchange(other.exited_, false);
  }
  return *this;
}

child_process::~child_process() {
  terminate(std::chrono::seconds(10));
  reset();
}

void child_process::reset() noexcept {
  if (pidfd_ >= 0) ::close(pidfd_);
  pidfd_ = -1;
}

bool child_process::try_reap() noexcept {
  if (pid_ <= 0 || exited_) return true;
  int status = 0;
  pid_t r = 0;
  do {
    r = ::waitpid(pid_, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return false;
  exited_ = true;
  if (r == pid_) status_ = status;  // else ECHILD: reaped elsewhere (SIGCHLD ignored, or waitpid(-1))
  reset();
  return true;
}

bool child_process::running() { return !try_reap(); }

bool child_process::wait_for_exit(milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  for (;;) {
    if (try_reap()) return true;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
    if (left.count() <= 0) return false;
    // With a pidfd this wakes on the exit itself; without one it polls every 10 ms.
    pollfd p{.fd = pidfd_, .events = POLLIN, .revents = 0};
    const int wait_ms = static_cast<int>(std::min<long long>(left.count(), pidfd_ >= 0 ? 60'000 : 10));
    (void)::poll(pidfd_ >= 0 ? &p : nullptr, pidfd_ >= 0 ? 1 : 0, wait_ms);
  }
}

void child_process::send_signal(int sig) noexcept {
  if (pid_ <= 0 || exited_) return;
  // Until it is reaped the pid cannot be reused, so kill() is as safe as the pidfd.
  if (pidfd_ < 0 || ::syscall(SYS_pidfd_send_signal, pidfd_, sig, nullptr, 0) != 0) (void)::kill(pid_, sig);
}

void child_process::terminate(milliseconds grace) noexcept {
  if (pid_ <= 0 || exited_) return;
  send_signal(SIGTERM);
  try {
    if (wait_for_exit(grace)) return;
  } catch (...) {
  }
  send_signal(SIGKILL);
  int status = 0;
  pid_t r = 0;
  do {
    r = ::waitpid(pid_, &status, 0);
  } while (r < 0 && errno == EINTR);
  exited_ = true;
  if (r == pid_) status_ = status;
  reset();
}

std::string child_process::describe_exit() const {
  if (pid_ <= 0) return "not started";
  if (!exited_) return "still running";
  if (!status_) return "exited (reaped elsewhere, status unknown)";
  if (WIFEXITED(*status_)) return "exited with status " + std::to_string(WEXITSTATUS(*status_));
  if (WIFSIGNALED(*status_)) {
    const int sig = WTERMSIG(*status_);
    const char* name = ::sigdescr_np(sig);
    return "killed by signal " + std::to_string(sig) + (name ? std::string(" (") + name + ")" : std::string());
  }
  return "ended with wait status " + std::to_string(*status_);
}

}  // namespace mockhub::server
