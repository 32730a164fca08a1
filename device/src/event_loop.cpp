#include "mockhub/device/event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>

namespace mockhub::device {

namespace {
constexpr std::uint64_t wake_tag = 0;  // registration ids start at 1

[[noreturn]] void throw_errno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }
}  // namespace

event_loop::event_loop(event_loop_options options)
    : clock_(options.time ? std::move(options.time) : system_clock::instance()), max_events_(std::max(1, options.max_events)) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw_errno("event_loop: epoll_create1");
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    ::close(epoll_fd_);
    throw_errno("event_loop: eventfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = wake_tag;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    ::close(wake_fd_);
    ::close(epoll_fd_);
    throw_errno("event_loop: epoll_ctl(eventfd)");
  }
  clock_watch_ = clock_->watch([this] { wake(); });
}

event_loop::~event_loop() {
  clock_->unwatch(clock_watch_);
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void event_loop::wake() {
  const std::uint64_t one = 1;
  // A full counter (never in practice) still leaves the loop readable: nothing to do on failure.
  [[maybe_unused]] const auto n = ::write(wake_fd_, &one, sizeof one);
}

void event_loop::drain_wakeups() {
  std::uint64_t value = 0;
  while (::read(wake_fd_, &value, sizeof value) > 0) {
  }
}

void event_loop::post(std::function<void()> task) {
  {
    std::lock_guard lock(tasks_mutex_);
    tasks_.push_back(std::move(task));
  }
  wake();
}

void event_loop::stop() {
  stop_.store(true);
  wake();
}

event_loop::timer_id event_loop::call_at(clock::time_point due, std::function<void()> fn) {
  const timer_id id = next_timer_++;
  timer_fns_.emplace(id, std::move(fn));
  timer_heap_.emplace(due, id);
  return id;
}

bool event_loop::cancel(timer_id id) { return id != 0 && timer_fns_.erase(id) > 0; }

std::uint64_t event_loop::watch(int fd, bool want_write, io_handler& handler) {
  const std::uint64_t id = next_watch_++;
  epoll_event ev{};
  ev.events = EPOLLIN | (want_write ? EPOLLOUT : 0u);
  ev.data.u64 = id;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) throw_errno("event_loop: epoll_ctl(ADD)");
  watches_.emplace(id, watch_entry{fd, want_write, &handler});
  return id;
}

void event_loop::set_want_write(std::uint64_t registration, bool want_write) {
  const auto it = watches_.find(registration);
  if (it == watches_.end() || it->second.want_write == want_write) return;
  epoll_event ev{};
  ev.events = EPOLLIN | (want_write ? EPOLLOUT : 0u);
  ev.data.u64 = registration;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, it->second.fd, &ev) == 0) it->second.want_write = want_write;
}

void event_loop::unwatch(std::uint64_t registration) {
  const auto it = watches_.find(registration);
  if (it == watches_.end()) return;
  // The socket may already be closed (libmosquitto closes it before telling us): EBADF is fine.
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second.fd, nullptr);
  watches_.erase(it);
}

std::size_t event_loop::run_timers() {
  std::size_t fired = 0;
  const auto now = clock_->now();
  // Only timers due now and created before this round: a timer scheduling another at "now"
  // waits for the next round instead of spinning here.
  const timer_id limit = next_timer_;
  while (!timer_heap_.empty() && timer_heap_.top().first <= now && timer_heap_.top().second < limit) {
    const timer_id id = timer_heap_.top().second;
    timer_heap_.pop();
    auto it = timer_fns_.find(id);
    if (it == timer_fns_.end()) continue;  // cancelled
    auto fn = std::move(it->second);
    timer_fns_.erase(it);
    fn();
    ++fired;
  }
  // Drop cancelled timers from the top so the next wait is not cut short by them.
  while (!timer_heap_.empty() && !timer_fns_.contains(timer_heap_.top().second)) timer_heap_.pop();
  return fired;
}

std::size_t event_loop::run_tasks() {
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard lock(tasks_mutex_);
    batch.swap(tasks_);
  }
  for (auto& t : batch) t();
  return batch.size();
}

std::size_t event_loop::run_once(std::chrono::milliseconds max_wait) {
  struct runner_guard {
    std::atomic<std::thread::id>& runner;
    std::thread::id previous;
    explicit runner_guard(std::atomic<std::thread::id>& r) : runner(r), previous(r.exchange(std::this_thread::get_id())) {}
    ~runner_guard() { runner.store(previous); }
  } guard(runner_);

  auto wait = max_wait;
  {
    std::lock_guard lock(tasks_mutex_);
    if (!tasks_.empty()) wait = std::chrono::milliseconds{0};
  }
  while (!timer_heap_.empty() && !timer_fns_.contains(timer_heap_.top().second)) timer_heap_.pop();
  if (!timer_heap_.empty() && wait.count() > 0) {
    const auto until = timer_heap_.top().first - clock_->now();
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(until);
    if (ms < wait) wait = std::max(ms, std::chrono::milliseconds{0});
  }
  if (wait.count() < 0) wait = std::chrono::milliseconds{0};

  auto& events = events_;
  events.resize(static_cast<std::size_t>(max_events_));
  const int timeout = static_cast<int>(std::min<std::int64_t>(wait.count(), 24LL * 3600 * 1000));
  const int n = ::epoll_wait(epoll_fd_, events.data(), max_events_, timeout);
  if (n < 0 && errno != EINTR) throw_errno("event_loop: epoll_wait");

  std::size_t handled = 0;
  for (int i = 0; i < n; ++i) {
    const auto tag = events[static_cast<std::size_t>(i)].data.u64;
    if (tag == wake_tag) {
      drain_wakeups();
      continue;
    }
    const auto it = watches_.find(tag);
    if (it == watches_.end()) continue;  // unwatched earlier in this round
    const auto e = events[static_cast<std::size_t>(i)].events;
    it->second.handler->on_io((e & (EPOLLIN | EPOLLPRI)) != 0, (e & EPOLLOUT) != 0, (e & (EPOLLERR | EPOLLHUP)) != 0);
    ++handled;
  }
  handled += run_timers();
  handled += run_tasks();
  return handled;
}

void event_loop::run() {
  // stop() before run() makes run() return at once; the flag is consumed so a later run() works.
  while (!stop_.exchange(false)) run_once(std::chrono::milliseconds{60'000});
}

}  // namespace mockhub::device
