// One thread driving many clients: epoll over the clients' sockets (mosquitto_socket), timers on
// the library's clock, and a queue of tasks posted from other threads. A `client` built on an
// event_loop does all its network work inside run_once()/run() on the thread that calls them;
// a `client` built without one owns a private event_loop and a thread running it.
//
// Lifetime: the loop must outlive the clients built on it.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>
#include <unordered_map>
#include <vector>

#include "mockhub/device/clock.hpp"

struct epoll_event;

namespace mockhub::device {

struct event_loop_options {
  /// Timers run on this clock (default: the system clock). A manual_clock wakes the loop when moved.
  std::shared_ptr<clock> time{};
  /// Socket events taken per epoll_wait.
  int max_events = 1024;
};

class event_loop {
 public:
  using timer_id = std::uint64_t;

  /// Something with a socket to watch (a client's connection).
  class io_handler {
   public:
    virtual ~io_handler() = default;
    /// `readable`/`writable`/`error` as epoll reported them.
    virtual void on_io(bool readable, bool writable, bool error) = 0;
  };

  explicit event_loop(event_loop_options options = {});
  ~event_loop();
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  /// One round: waits at most `max_wait` (less when a timer is due sooner) for socket events,
  /// posted tasks or a wake-up, then handles socket events, due timers and posted tasks.
  /// Returns how many things it handled.
  std::size_t run_once(std::chrono::milliseconds max_wait);
  /// Rounds until stop() (from any thread, or a handler).
  void run();
  /// Makes run() return after the current round. Thread-safe.
  void stop();
  /// Runs `task` on the loop's thread at the next round. Thread-safe.
  void post(std::function<void()> task);
  /// Interrupts a waiting round. Thread-safe.
  void wake();
  /// True on the thread currently inside run_once()/run().
  bool in_loop_thread() const noexcept { return runner_.load() == std::this_thread::get_id(); }
  /// The thread inside run_once()/run(), or a default id when none is.
  std::thread::id loop_thread() const noexcept { return runner_.load(); }

  clock& time() noexcept { return *clock_; }

  // --- timers and sockets: loop thread only (or before the loop runs) ---
  timer_id call_at(clock::time_point due, std::function<void()> fn);
  timer_id call_after(clock::duration delay, std::function<void()> fn) { return call_at(clock_->now() + delay, std::move(fn)); }
  /// False when it already fired or was cancelled. 0 is never a timer (cancel(0) is a no-op).
  bool cancel(timer_id id);
  std::size_t pending_timers() const noexcept { return timer_fns_.size(); }

  /// Watches `fd` for reading (always) and writing (when `want_write`); returns a registration id.
  std::uint64_t watch(int fd, bool want_write, io_handler& handler);
  void set_want_write(std::uint64_t registration, bool want_write);
  /// Stops watching. Call it before the socket is closed; events already taken for it are dropped.
  void unwatch(std::uint64_t registration);
  std::size_t watched() const noexcept { return watches_.size(); }

 private:
  struct watch_entry {
    int fd;
    bool want_write;
    io_handler* handler;
  };
  void drain_wakeups();
  std::size_t run_timers();
  std::size_t run_tasks();

  std::shared_ptr<clock> clock_;
  std::uint64_t clock_watch_ = 0;
  int max_events_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::atomic<std::thread::id> runner_{};
  std::atomic<bool> stop_{false};

  std::mutex tasks_mutex_;
  std::deque<std::function<void()>> tasks_;

  using timer_key = std::pair<clock::time_point, timer_id>;
  std::priority_queue<timer_key, std::vector<timer_key>, std::greater<>> timer_heap_;
  std::unordered_map<timer_id, std::function<void()>> timer_fns_;
  timer_id next_timer_ = 1;

  std::unordered_map<std::uint64_t, watch_entry> watches_;
  std::vector<::epoll_event> events_;
  std::uint64_t next_watch_ = 1;
};

}  // namespace mockhub::device
