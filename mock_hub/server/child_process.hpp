// A child process that cannot outlive the process that started it (Linux).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace mockhub::server {

/// How to start a child process.
struct child_process_options {
  std::filesystem::path program{};
  /// Arguments after argv[0] (argv[0] is the program's file name).
  std::vector<std::string> arguments{};
  /// Receives the child's stdout and stderr (truncated first). Empty: the child inherits ours.
  std::filesystem::path output_file{};
  /// The child's hard open-file limit is raised to at least this where permitted (root or
  /// CAP_SYS_RESOURCE), and its soft limit to its hard limit. 0: limits are left alone.
  std::uint64_t min_open_files = 0;
};

/// A child process started with fork/exec. It gets SIGTERM when this process dies (however it
/// dies), because it is forked with PR_SET_PDEATHSIG from a thread that lives as long as the
/// process: the death signal follows the forking *thread*, so forking from the caller's thread
/// would kill the child when that thread ends. Its stdin is /dev/null and it inherits no other
/// file descriptor; signal mask and dispositions are reset.
///
/// One object is not for concurrent use; separate objects are independent. The destructor
/// terminates a child that is still running. A process that forks while another of its threads
/// is inside `spawn` may deadlock in the child (the usual fork-with-threads rule).
class child_process {
 public:
  /// Starts `options.program`. Throws std::system_error when it cannot be executed (errno of execve).
  static child_process spawn(const child_process_options& options);

  child_process() = default;
  child_process(child_process&& other) noexcept;
  child_process& operator=(child_process&& other) noexcept;
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process();

  /// The child's pid, also after it has been reaped; 0 when nothing was spawned.
  pid_t pid() const noexcept { return pid_; }
  /// A descriptor that polls readable once the child has exited (a pidfd); -1 when not available.
  int exit_fd() const noexcept { return pidfd_; }

  /// Whether it is still running; reaps it (without blocking) when it has exited.
  bool running();
  /// Waits at most `timeout` for it to exit; true once it has exited and been reaped.
  bool wait_for_exit(std::chrono::milliseconds timeout);
  /// SIGTERM, wait at most `grace`, then SIGKILL; returns once it is reaped. No-op once reaped.
  void terminate(std::chrono::milliseconds grace) noexcept;

  /// The raw waitpid status once it has been reaped.
  std::optional<int> wait_status() const noexcept { return status_; }
  /// "still running", "exited with status 1", "killed by signal 9 (Killed)".
  std::string describe_exit() const;

 private:
  void reset() noexcept;
  bool try_reap() noexcept;
  void send_signal(int sig) noexcept;

  pid_t pid_ = 0;
  int pidfd_ = -1;
  std::optional<int> status_{};
  bool exited_ = false;
};

}  // namespace mockhub::server
