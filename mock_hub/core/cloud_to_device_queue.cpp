#include "cloud_to_device_queue.hpp"

#include <algorithm>

#include "errors.hpp"

namespace mockhub::core {

void cloud_to_device_queue::forget(std::string_view device_id, const entry& e) {
  if (store_) store_->delete_cloud_to_device(device_id, e.sequence);
}

void cloud_to_device_queue::drop_expired(std::string_view device_id, std::deque<entry>& q, time_point now) {
  std::erase_if(q, [&](const entry& e) {
    const bool expired = e.message.expiry && *e.message.expiry <= now;
    if (expired) forget(device_id, e);
    return expired;
  });
}

void cloud_to_device_queue::enqueue(std::string_view device_id, cloud_to_device_message message, time_point now) {
  auto it = queues_.find(device_id);
  if (it == queues_.end()) it = queues_.emplace(std::string(device_id), std::deque<entry>{}).first;
  drop_expired(device_id, it->second, now);
  if (it->second.size() >= max_depth) throw errors::device_maximum_queue_depth_exceeded(device_id);
  const std::uint64_t sequence = next_sequence_++;
  if (store_) store_->put_cloud_to_device({std::string(device_id), sequence, message});
  it->second.push_back({sequence, std::move(message)});
}

std::vector<cloud_to_device_message> cloud_to_device_queue::take(std::string_view device_id, time_point now) {
  const auto it = queues_.find(device_id);
  if (it == queues_.end()) return {};
  drop_expired(device_id, it->second, now);
  std::vector<cloud_to_device_message> out;
  // Removed from the store in the same batch as the delivery: a hub killed before that batch
  // commits delivers the message again after a restart (at least once, as IoT Hub promises).
  for (auto& e : it->second) {
    forget(device_id, e);
    out.push_back(std::move(e.message));
  }
  queues_.erase(it);
  return out;
}

std::size_t cloud_to_device_queue::purge(std::string_view device_id) {
  const auto it = queues_.find(device_id);
  if (it == queues_.end()) return 0;
  const std::size_t n = it->second.size();
  for (const auto& e : it->second) forget(device_id, e);
  queues_.erase(it);
  return n;
}

std::size_t cloud_to_device_queue::depth(std::string_view device_id, time_point now) {
  const auto it = queues_.find(device_id);
  if (it == queues_.end()) return 0;
  drop_expired(device_id, it->second, now);
  return it->second.size();
}

void cloud_to_device_queue::restore(stored_cloud_to_device message) {
  next_sequence_ = std::max(next_sequence_, message.sequence + 1);
  queues_[message.device_id].push_back({message.sequence, std::move(message.message)});
}

}  // namespace mockhub::core
