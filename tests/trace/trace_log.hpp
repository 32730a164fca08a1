// The trace lines a hub records, kept in memory (hub_runtime_options::on_trace_event), and a
// bounded wait for one to appear: how a scenario waits for the hub to have handled what a device
// did, without sleeping.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace mockhub::test {

class trace_log {
 public:
  /// What to give hub_runtime_options::on_trace_event (the log must outlive the hub).
  std::function<void(const nlohmann::json&)> listener() {
    return [this](const nlohmann::json& line) {
      {
        std::lock_guard lock(mutex_);
        lines_.push_back(line);
      }
      changed_.notify_all();
    };
  }

  /// Waits (at most `timeout`) until a line recorded at or after index `from` matches.
  bool wait_for(const std::function<bool(const nlohmann::json&)>& match, std::size_t from = 0,
                std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] {
      for (std::size_t i = from; i < lines_.size(); ++i)
        if (match(lines_[i])) return true;
      return false;
    });
  }
  /// Waits for an event of `kind` in direction `dir` for `device`, recorded at or after `from`,
  /// whose topic (when `topic_prefix` is not empty) starts with `topic_prefix`.
  bool wait_device_event(std::string_view dir, std::string_view kind, std::string_view device,
                         std::string_view topic_prefix = {}, std::size_t from = 0) {
    return wait_for(
        [&](const nlohmann::json& e) {
          return e.value("dir", "") == dir && e.value("kind", "") == kind && e.value("device", "") == device &&
                 (topic_prefix.empty() || std::string_view(e.value("topic", "")).starts_with(topic_prefix));
        },
        from);
  }

  std::size_t size() {
    std::lock_guard lock(mutex_);
    return lines_.size();
  }
  std::vector<nlohmann::json> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<nlohmann::json> lines_;
};

}  // namespace mockhub::test
