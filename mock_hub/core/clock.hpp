// Time for the hub core. Nothing in the core reads the wall clock: it is given a `clock`.
// A clock tells the time and keeps the core's timers (job start times, method timeouts,
// job max execution time, SAS expiry, retention). The core is single-threaded: whoever
// owns it (the hub executor, or a test) calls `run_due()` when `next_due()` has come.
//
// - `system_clock`: real UTC time; the executor sleeps until `next_due()` and calls `run_due()`.
// - `virtual_clock`: time moves only when told (`advance`, `set`); moving it fires every timer
//   that became due, in time order, each one seeing `now()` equal to its own due time.
//
// Ties are broken by scheduling order, and a cancelled timer never fires, so a virtual-clock
// run is exactly repeatable.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>

namespace mockhub::core {

using time_point = std::chrono::system_clock::time_point;
using duration = std::chrono::system_clock::duration;

class clock {
 public:
  using timer_id = std::uint64_t;

  clock() = default;
  clock(const clock&) = delete;
  clock& operator=(const clock&) = delete;
  virtual ~clock() = default;

  /// The current UTC time.
  virtual time_point now() const = 0;

  /// Runs `fn` once `now()` reaches `due` (at the next `run_due()` or clock move).
  /// A `due` in the past makes the timer due at once. Ids are never reused.
  timer_id call_at(time_point due, std::function<void()> fn);
  timer_id call_after(duration delay, std::function<void()> fn) { return call_at(now() + delay, std::move(fn)); }

  /// Cancels a timer that has not fired yet. Returns false when it already fired or was cancelled.
  bool cancel(timer_id id);

  /// The due time of the earliest pending timer, if any.
  std::optional<time_point> next_due() const;
  std::size_t pending_timers() const noexcept { return timers_.size(); }

  /// Fires the timers that are due at or before `now()` and were scheduled before this call,
  /// in (due time, scheduling order) order. Timers that callbacks schedule meanwhile wait for
  /// the next call, so the clock's owner can interleave other work between rounds (a job over
  /// 100,000 devices proceeds in slices). Returns how many fired.
  std::size_t run_due();

 protected:
  /// Pops and fires the earliest timer if it is due at or before `limit` and its id is below
  /// `id_limit`; returns its due time.
  std::optional<time_point> fire_next(time_point limit, timer_id id_limit = ~timer_id{0});

 private:
  using key = std::pair<time_point, timer_id>;
  std::map<key, std::function<void()>> timers_;
  std::unordered_map<timer_id, time_point> due_of_;
  timer_id next_id_ = 1;
};

/// Real time, from std::chrono::system_clock.
class system_clock final : public clock {
 public:
  time_point now() const override { return std::chrono::system_clock::now(); }
};

/// Time that only moves when told. Starts at `start` (by default 2026-01-01T00:00:00Z).
class virtual_clock final : public clock {
 public:
  static time_point default_start();

  explicit virtual_clock(time_point start = default_start()) : now_(start) {}

  time_point now() const override { return now_; }

  /// Moves time forward by `by` (>= 0), firing every timer that becomes due on the way,
  /// each at its own due time. Returns how many fired. Throws std::invalid_argument when `by` < 0.
  std::size_t advance(duration by);

  /// Moves time forward to `to` (not before `now()`), as `advance` does.
  /// Throws std::invalid_argument when `to` is earlier than `now()`.
  std::size_t set(time_point to);

 private:
  time_point now_;
};

}  // namespace mockhub::core
