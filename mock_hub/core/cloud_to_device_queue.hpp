// Cloud-to-device messages waiting for their device (reference sections 1.2, 1.4, 8):
// at most 50 per device, each with an expiry after which it is dropped undelivered.
// Over MQTT a device cannot reject or abandon a message: delivery completes it, so a message
// leaves the queue when it is handed to a connected, subscribed device.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "clock.hpp"
#include "hub_store.hpp"
#include "messages.hpp"

namespace mockhub::core {

class cloud_to_device_queue {
 public:
  static constexpr std::size_t max_depth = 50;

  /// `store` (optional) keeps every waiting message until it is delivered, expires or is purged.
  explicit cloud_to_device_queue(hub_store* store = nullptr) : store_(store) {}

  /// Queues a message. Throws hub_error 403004 DeviceMaximumQueueDepthExceeded when the device
  /// already has `max_depth` unexpired messages waiting.
  void enqueue(std::string_view device_id, cloud_to_device_message message, time_point now);

  /// Removes and returns the device's unexpired messages, oldest first (expired ones are dropped).
  std::vector<cloud_to_device_message> take(std::string_view device_id, time_point now);

  /// CloudToDeviceMessages_PurgeCloudToDeviceMessageQueue: drops every waiting message; returns how many.
  std::size_t purge(std::string_view device_id);

  /// Unexpired messages waiting for the device.
  std::size_t depth(std::string_view device_id, time_point now);

  /// Puts back a stored message (at load, in sequence order).
  void restore(stored_cloud_to_device message);

 private:
  struct entry {
    std::uint64_t sequence;
    cloud_to_device_message message;
  };
  void drop_expired(std::string_view device_id, std::deque<entry>& q, time_point now);
  void forget(std::string_view device_id, const entry& e);

  hub_store* store_;
  std::uint64_t next_sequence_ = 1;
  std::map<std::string, std::deque<entry>, std::less<>> queues_;
};

}  // namespace mockhub::core
