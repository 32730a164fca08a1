// The telemetry the hub received: a bounded buffer per device (oldest dropped first) and
// listeners that see every message as it arrives (the harness waits on them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "messages.hpp"

namespace mockhub::core {

class telemetry_log {
 public:
  using listener = std::function<void(const device_to_cloud_message&)>;
  using listener_id = std::uint64_t;

  /// Keeps at most `per_device_capacity` (at least 1) messages per device.
  explicit telemetry_log(std::size_t per_device_capacity = 1000)
      : capacity_(per_device_capacity == 0 ? 1 : per_device_capacity) {}

  /// Stores the message (numbering it) and tells every listener. Returns its sequence number.
  std::uint64_t append(device_to_cloud_message message);

  /// The buffered messages of a device, oldest first.
  std::vector<device_to_cloud_message> messages(std::string_view device_id) const;
  /// How many messages the hub received in all (dropped ones included).
  std::uint64_t total() const noexcept { return next_sequence_ - 1; }
  void forget(std::string_view device_id);

  listener_id add_listener(listener l);
  void remove_listener(listener_id id);

 private:
  std::size_t capacity_;
  std::uint64_t next_sequence_ = 1;
  std::map<std::string, std::deque<device_to_cloud_message>, std::less<>> buffers_;
  std::map<listener_id, listener> listeners_;
  listener_id next_listener_ = 1;
};

}  // namespace mockhub::core
