#include "mockhub/device/clock.hpp"

#include <stdexcept>
#include <vector>

namespace mockhub::device {

std::shared_ptr<clock> system_clock::instance() {
  static const std::shared_ptr<clock> shared = std::make_shared<system_clock>();
  return shared;
}

clock::time_point manual_clock::now() const {
  std::lock_guard lock(mutex_);
  return now_;
}

void manual_clock::advance(duration by) {
  if (by < duration::zero()) throw std::invalid_argument("manual_clock::advance: negative duration");
  {
    std::lock_guard lock(mutex_);
    now_ += by;
  }
  notify();
}

void manual_clock::set(time_point to) {
  {
    std::lock_guard lock(mutex_);
    if (to < now_) throw std::invalid_argument("manual_clock::set: time cannot go back");
    now_ = to;
  }
  notify();
}

std::uint64_t manual_clock::watch(std::function<void()> on_jump) {
  std::lock_guard lock(mutex_);
  watchers_.emplace(next_id_, std::move(on_jump));
  return next_id_++;
}

void manual_clock::unwatch(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  watchers_.erase(id);
}

void manual_clock::notify() {
  std::vector<std::function<void()>> copy;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, f] : watchers_) copy.push_back(f);
  }
  for (auto& f : copy) f();
}

}  // namespace mockhub::device
