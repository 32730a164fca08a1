// The result of an asynchronous operation, as Paho's tokens: wait for it (with a bound), read
// its value (which rethrows the operation's device_error), or be called when it completes.
//
// Completion happens on the client's network thread. Waiting on that thread for an operation it
// has not completed yet would deadlock, so wait()/get() there throw std::logic_error instead; use
// on_complete() inside handlers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "mockhub/device/device_error.hpp"

namespace mockhub::device {

template <class T>
class token;

namespace detail {

template <class T>
struct token_state {
  using value_type = std::conditional_t<std::is_void_v<T>, std::monostate, T>;
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  std::optional<value_type> value;
  std::exception_ptr error;
  std::vector<std::function<void(const token<T>&)>> callbacks;
  std::thread::id network_thread{};
};

}  // namespace detail

template <class T>
class token {
 public:
  using value_type = typename detail::token_state<T>::value_type;

  token() = default;

  bool valid() const noexcept { return state_ != nullptr; }
  bool is_complete() const {
    std::lock_guard lock(state_->mutex);
    return state_->done;
  }
  /// Waits until complete.
  void wait() const {
    std::unique_lock lock(state_->mutex);
    check_thread(lock);
    state_->done_cv.wait(lock, [this] { return state_->done; });
  }
  /// Waits at most `timeout`; true when complete.
  template <class Rep, class Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
    std::unique_lock lock(state_->mutex);
    check_thread(lock);
    return state_->done_cv.wait_for(lock, timeout, [this] { return state_->done; });
  }
  /// Waits, then returns the value or throws the operation's device_error.
  decltype(auto) get() const {
    wait();
    if (state_->error) std::rethrow_exception(state_->error);
    if constexpr (std::is_void_v<T>) return;
    else return static_cast<const T&>(*state_->value);
  }
  /// Complete without error (false while pending).
  bool ok() const {
    std::lock_guard lock(state_->mutex);
    return state_->done && !state_->error;
  }
  /// The failure of a completed operation; nullptr while pending or on success.
  std::exception_ptr error() const {
    std::lock_guard lock(state_->mutex);
    return state_->error;
  }
  /// Calls `f(*this)` once complete: at once (on this thread) if it already is, else on the
  /// network thread when it completes.
  void on_complete(std::function<void(const token&)> f) const {
    {
      std::lock_guard lock(state_->mutex);
      if (!state_->done) {
        state_->callbacks.push_back(std::move(f));
        return;
      }
    }
    f(*this);
  }

  // --- for the library: completing a token ---
  static token make(std::thread::id network_thread = {}) {
    token t;
    t.state_ = std::make_shared<detail::token_state<T>>();
    t.state_->network_thread = network_thread;
    return t;
  }
  template <class... A>
  void complete(A&&... value) const {
    finish([&](detail::token_state<T>& s) { s.value.emplace(std::forward<A>(value)...); });
  }
  void fail(std::exception_ptr e) const {
    finish([&](detail::token_state<T>& s) { s.error = std::move(e); });
  }
  void fail(const device_error& e) const { fail(std::make_exception_ptr(e)); }

 private:
  void check_thread(std::unique_lock<std::mutex>&) const {
    if (!state_->done && state_->network_thread != std::thread::id{} && state_->network_thread == std::this_thread::get_id())
      throw std::logic_error("mockhub::device::token: waiting on the network thread would deadlock; use on_complete()");
  }
  template <class F>
  void finish(F&& set) const {
    std::vector<std::function<void(const token&)>> callbacks;
    {
      std::lock_guard lock(state_->mutex);
      if (state_->done) return;  // first completion wins
      set(*state_);
      state_->done = true;
      callbacks.swap(state_->callbacks);
    }
    state_->done_cv.notify_all();
    for (auto& f : callbacks) f(*this);
  }

  std::shared_ptr<detail::token_state<T>> state_;
};

}  // namespace mockhub::device
