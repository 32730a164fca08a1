// What the fault tests share: a record of a device client's connection events that a test can
// wait on (bounded, woken by the client's own thread, never a sleep), and the hub started the way
// every fault test starts it (virtual clock, plain MQTT and HTTP on ephemeral loopback ports).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <mockhub/device/client.hpp>
#include <mockhub/harness/test_hub.hpp>

namespace mockhub::faults_test {

inline harness::test_hub_config hub_config(std::uint64_t seed) {
  return {.virtual_clock = true, .seed = seed, .tls = false, .wait_bound = std::chrono::seconds(30)};
}

/// Connection events of one client, in order.
class connection_log {
 public:
  /// Installs itself as the client's connection handler (before connect()).
  explicit connection_log(device::client& c) {
    c.on_connection_status([this](const device::connection_event& e) {
      {
        std::lock_guard lock(mutex_);
        events_.push_back(e);
      }
      cv_.notify_all();
    });
  }
  /// Until `count` events match, at most `bound`. False on timeout.
  bool wait(const std::function<bool(const device::connection_event&)>& match, std::size_t count = 1,
            std::chrono::milliseconds bound = std::chrono::seconds(30)) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, bound, [&] { return matching(match) >= count; });
  }
  std::size_t count(const std::function<bool(const device::connection_event&)>& match) {
    std::lock_guard lock(mutex_);
    return matching(match);
  }
  static bool connected(const device::connection_event& e) { return e.status == device::connection_status::connected; }
  static bool dropped(const device::connection_event& e) {
    return e.status == device::connection_status::disconnected_retrying &&
           e.reason == device::connection_reason::communication_error;
  }

 private:
  std::size_t matching(const std::function<bool(const device::connection_event&)>& match) const {
    std::size_t n = 0;
    for (const auto& e : events_)
      if (match(e)) ++n;
    return n;
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<device::connection_event> events_;
};

}  // namespace mockhub::faults_test
