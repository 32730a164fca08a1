#include "hub_executor.hpp"

#include <pthread.h>

#include <iostream>

namespace mockhub::server {

hub_executor::hub_executor(core::clock& clk, timers mode) : clock_(clk), mode_(mode) {
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "mockhub-hub");  // for top -H, perf and the benches
    run();
  });
}

hub_executor::~hub_executor() { stop(); }

void hub_executor::post(std::function<void()> task) { enqueue(std::move(task)); }

bool hub_executor::enqueue(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
  return true;
}

void hub_executor::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable() && !on_executor_thread()) thread_.join();
}

bool hub_executor::wait_until(std::function<bool()> condition, std::chrono::milliseconds timeout) {
  auto w = std::make_shared<waiter>();
  w->condition = std::move(condition);
  auto met = w->met.get_future();
  if (!enqueue([this, w] {
        waiters_.push_back(w);
        check_waiters();
      }))
    return false;
  if (met.wait_for(timeout) == std::future_status::ready) return true;
  post([this, w] { std::erase(waiters_, w); });  // forget it; a late success is harmless
  return false;
}

void hub_executor::check_waiters() {
  for (const auto& w : waiters_) {
    if (w->done) continue;
    bool met = false;
    try {
      met = w->condition();
    } catch (...) {
      met = false;
    }
    if (met) {
      w->done = true;
      w->met.set_value();
    }
  }
  std::erase_if(waiters_, [](const auto& w) { return w->done; });
}

void hub_executor::guarded(const std::function<void()>& work) {
  try {
    work();
  } catch (const std::exception& e) {
    std::cerr << "mockhub: a hub task failed: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "mockhub: a hub task failed\n";
  }
}

void hub_executor::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopping_) {
      tasks_.clear();  // their futures report broken promises to any waiter
      return;
    }
    if (!tasks_.empty()) {
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      guarded(task);
      guarded([this] { clock_.run_due(); });
      if (!waiters_.empty()) check_waiters();
      lock.lock();
      continue;
    }
    // Idle. Timers are only read and changed on this thread, so reading them here is safe.
    // Timers that are already due run in rounds, with queued tasks served between rounds.
    const auto due = clock_.next_due();
    if (due && *due <= clock_.now()) {
      lock.unlock();
      guarded([this] { clock_.run_due(); });
      if (!waiters_.empty()) check_waiters();
      lock.lock();
    } else if (due && mode_ == timers::real_time) {
      wake_.wait_until(lock, *due);
    } else {
      wake_.wait(lock);
    }
  }
}

}  // namespace mockhub::server
