// Waiting on the HTTP thread for a direct method's outcome, which the core reports later on the
// executor thread. Every wait has a bound, and stop() ends all waits at once, so a server never
// hangs on a device that does not answer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <map>

#include "mock_hub/core/direct_methods.hpp"

namespace mockhub::rest {

class pending_calls {
 public:
  /// One call's outcome, shared by the waiter and the core's callback (which may outlive the
  /// server: it only ever touches the slot).
  class slot {
   public:
    /// Records the outcome (the first one wins) and wakes the waiter. Called on the executor.
    void complete(const core::method_outcome& outcome);

   private:
    friend class pending_calls;
    std::mutex mutex_;
    std::condition_variable done_;
    std::optional<core::method_outcome> outcome_;
    bool cancelled_ = false;
  };

  enum class end { completed, timed_out, cancelled };
  struct result {
    end how = end::timed_out;
    std::optional<core::method_outcome> outcome;  // set when completed
  };

  /// A new slot; already cancelled when cancel_all() has run.
  std::shared_ptr<slot> open();
  /// Waits until the slot completes, `bound` passes, or cancel_all() runs.
  result wait(const std::shared_ptr<slot>& s, std::chrono::steady_clock::duration bound);
  /// Ends every wait (now and later) with `cancelled`.
  void cancel_all();

 private:
  std::mutex mutex_;
  // Weak: a slot opened for a call that then failed is never waited on, and simply expires.
  std::map<slot*, std::weak_ptr<slot>> open_;
  bool cancelled_ = false;
};

}  // namespace mockhub::rest
