#include "clock.hpp"

#include <algorithm>
#include <stdexcept>

namespace mockhub::core {

clock::timer_id clock::call_at(time_point due, std::function<void()> fn) {
  const timer_id id = next_id_++;
  timers_.emplace(key{due, id}, std::move(fn));
  due_of_.emplace(id, due);
  return id;
}

bool clock::cancel(timer_id id) {
  const auto it = due_of_.find(id);
  if (it == due_of_.end()) return false;
  timers_.erase(key{it->second, id});
  due_of_.erase(it);
  return true;
}

std::optional<time_point> clock::next_due() const {
  if (timers_.empty()) return std::nullopt;
  return timers_.begin()->first.first;
}

std::optional<time_point> clock::fire_next(time_point limit, timer_id id_limit) {
  if (timers_.empty()) return std::nullopt;
  auto first = timers_.begin();
  const auto [due, id] = first->first;
  if (due > limit) return std::nullopt;
  if (id >= id_limit) {
    // Scheduled during this round: skip it, but an older timer due at the same time may follow.
    auto it = std::find_if(timers_.begin(), timers_.end(),
                           [&](const auto& t) { return t.first.first > limit || t.first.second < id_limit; });
    if (it == timers_.end() || it->first.first > limit) return std::nullopt;
    first = it;
  }
  const auto fired_due = first->first.first;
  const auto fired_id = first->first.second;
  // Unlink before calling: the callback may schedule or cancel timers.
  auto fn = std::move(first->second);
  timers_.erase(first);
  due_of_.erase(fired_id);
  fn();
  return fired_due;
}

std::size_t clock::run_due() {
  const timer_id round = next_id_;
  const time_point limit = now();
  std::size_t fired = 0;
  while (fire_next(limit, round)) ++fired;
  return fired;
}

time_point virtual_clock::default_start() {
  using namespace std::chrono;
  return sys_days{year{2026} / January / 1};
}

std::size_t virtual_clock::advance(duration by) {
  if (by < duration::zero()) throw std::invalid_argument("virtual_clock::advance: the clock cannot move backwards");
  return set(now_ + by);
}

std::size_t virtual_clock::set(time_point to) {
  if (to < now_) throw std::invalid_argument("virtual_clock::set: the clock cannot move backwards");
  std::size_t fired = 0;
  for (;;) {
    const auto due = next_due();
    if (!due || *due > to) break;
    if (*due > now_) now_ = *due;  // a timer scheduled in the past fires at the current time
    fire_next(now_);
    ++fired;
  }
  now_ = to;
  return fired;
}

}  // namespace mockhub::core
