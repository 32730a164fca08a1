#include "pending_calls.hpp"

namespace mockhub::rest {

void pending_calls::slot::complete(const core::method_outcome& outcome) {
  {
    std::lock_guard lock(mutex_);
    if (outcome_) return;
    outcome_ = outcome;
  }
  done_.notify_all();
}

std::shared_ptr<pending_calls::slot> pending_calls::open() {
  auto s = std::make_shared<slot>();
  std::lock_guard lock(mutex_);
  if (cancelled_) {
    s->cancelled_ = true;
  } else {
    if (open_.size() >= 64) std::erase_if(open_, [](const auto& entry) { return entry.second.expired(); });
    open_.insert_or_assign(s.get(), s);
  }
  return s;
}

pending_calls::result pending_calls::wait(const std::shared_ptr<slot>& s, std::chrono::steady_clock::duration bound) {
  result r;
  {
    std::unique_lock lock(s->mutex_);
    const bool woke = s->done_.wait_for(lock, bound, [&] { return s->outcome_.has_value() || s->cancelled_; });
    if (s->outcome_) {
      r.how = end::completed;
      r.outcome = s->outcome_;
    } else {
      r.how = woke ? end::cancelled : end::timed_out;
    }
  }
  std::lock_guard lock(mutex_);
  open_.erase(s.get());
  return r;
}

void pending_calls::cancel_all() {
  std::lock_guard lock(mutex_);
  cancelled_ = true;
  for (const auto& [key, weak] : open_) {
    const auto s = weak.lock();
    if (!s) continue;
    {
      std::lock_guard slot_lock(s->mutex_);
      s->cancelled_ = true;
    }
    s->done_.notify_all();
  }
}

}  // namespace mockhub::rest
