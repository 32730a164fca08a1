// The one thread that owns the hub core. Adapters (broker link, REST) post work to it and may
// wait for the result; nothing else touches the core, so the core needs no locks.
//
// After every task the executor fires the clock's due timers, in rounds with queued tasks served
// between them. With a real-time clock it also wakes up when the next timer falls due; with a
// virtual clock, time only moves inside a task (`call([&]{ clock.advance(...); })`), which fires
// what became due before `call` returns.
#pragma once

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <future>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "mock_hub/core/clock.hpp"

namespace mockhub::server {

class hub_executor {
 public:
  enum class timers { real_time, virtual_time };

  hub_executor(core::clock& clk, timers mode);
  ~hub_executor();
  hub_executor(const hub_executor&) = delete;
  hub_executor& operator=(const hub_executor&) = delete;

  /// Queues a task; tasks run one at a time, in the order posted. Ignored after stop().
  /// An exception escaping a task is reported on stderr and does not stop the executor.
  void post(std::function<void()> task);

  /// Runs `f` on the executor and returns its result (rethrowing its exception). Called from
  /// the executor thread itself, it runs `f` inline. Throws std::runtime_error after stop().
  template <class F>
  auto call(F&& f) -> std::invoke_result_t<F&> {
    using result = std::invoke_result_t<F&>;
    if (on_executor_thread()) return f();
    // The queue owns the task: if stop() drops it unrun, the waiter gets a broken promise
    // instead of waiting forever.
    auto task = std::make_shared<std::packaged_task<result()>>(std::forward<F>(f));
    auto done = task->get_future();
    if (!enqueue([task] { (*task)(); })) throw std::runtime_error("hub_executor: stopped");
    return done.get();
  }

  /// Waits until `condition` holds, at most `timeout`: it is evaluated on the executor now and
  /// after every later task and timer round, so the wait ends on the event that made it true,
  /// without polling. Must not be called from the executor thread. False on timeout or stop.
  bool wait_until(std::function<bool()> condition, std::chrono::milliseconds timeout);

  /// Finishes the task in progress, drops the rest, and joins the thread. Idempotent.
  void stop();

  bool on_executor_thread() const noexcept { return std::this_thread::get_id() == thread_.get_id(); }

 private:
  struct waiter {
    std::function<bool()> condition;
    std::promise<void> met;
    bool done = false;  // executor thread only
  };
  void check_waiters();

  bool enqueue(std::function<void()> task);
  static void guarded(const std::function<void()>& work);
  void run();

  core::clock& clock_;
  timers mode_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::shared_ptr<waiter>> waiters_;  // executor thread only
  std::thread thread_;
};

}  // namespace mockhub::server
