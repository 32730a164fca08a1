// Time for the device library: what SAS tokens are signed against (`se`) and what its timers
// (backoff, CONNACK and operation timeouts, token renewal) run on. A seam, so that tests can
// mock it (trompeloeil) or move it by hand (manual_clock).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace mockhub::device {

class clock {
 public:
  using time_point = std::chrono::system_clock::time_point;
  using duration = std::chrono::system_clock::duration;

  clock() = default;
  clock(const clock&) = delete;
  clock& operator=(const clock&) = delete;
  virtual ~clock() = default;

  /// The current UTC time.
  virtual time_point now() const = 0;

  /// Clocks that jump (manual_clock) call `on_jump` after every move, so that an event loop
  /// waiting for a timer wakes up. The system clock never jumps: the defaults do nothing.
  virtual std::uint64_t watch(std::function<void()> on_jump) {
    (void)on_jump;
    return 0;
  }
  virtual void unwatch(std::uint64_t id) { (void)id; }
};

/// std::chrono::system_clock.
class system_clock final : public clock {
 public:
  time_point now() const override { return std::chrono::system_clock::now(); }
  /// One shared instance (the default of every option struct).
  static std::shared_ptr<clock> instance();
};

/// Time that moves only when told; thread-safe. Event loops using it wake on every move.
class manual_clock final : public clock {
 public:
  explicit manual_clock(time_point start = time_point{std::chrono::seconds{1767225600}})  // 2026-01-01T00:00:00Z
      : now_(start) {}

  time_point now() const override;
  void advance(duration by);
  void set(time_point to);

  std::uint64_t watch(std::function<void()> on_jump) override;
  void unwatch(std::uint64_t id) override;

 private:
  void notify();
  mutable std::mutex mutex_;
  time_point now_;
  std::map<std::uint64_t, std::function<void()>> watchers_;
  std::uint64_t next_id_ = 1;
};

}  // namespace mockhub::device
