#include "cloud_to_device_queue.hpp"

#include <algorithm>

#include "errors.hpp"

namespace mockhub::core {

void cloud_to_device_queue::drop_expired(std::deque<cloud_to_device_message>& q, time_point now) {
  std::erase_if(q, [now](const cloud_to_device_message& m) { return m.expiry && *m.expiry <= now; });
}

void cloud_to_device_queue::enqueue(std::string_view device_id, cloud_to_device_message message, time_point now) {
  auto it = queues_.find(device_id);
  if (it == queues_.end()) it = queues_.emplace(std::string(device_id), std::deque<cloud_to_device_message>{}).first;
  drop_expired(it->second, now);
  if (it->second.size() >= max_depth) throw errors::device_maximum_queue_depth_exceeded(device_id);
  it->second.push_back(std::move(message));
}

std::vector<cloud_to_device_message> cloud_to_device_queue::take(std::string_view device_id, time_point now) {
  const auto it = queues_.find(device_id);
  if (it == queues_.end()) return {};
  drop_expired(it->second, now);
  std::vector<cloud_to_device_message> out(std::make_move_iterator(it->second.begin()),
                                           std::make_move_iterator(it->second.end()));
  queues_.erase(it);
  return out;
}

std::size_t cloud_to_device_queue::purge(std::string_view device_id) {
  const auto it = queues_.find(device_id);
  if (it == queues_.end()) return 0;
  const std::size_t n = it->second.size();
  queues_.erase(it);
  return n;
}

std::size_t cloud_to_device_queue::depth(std::string_view device_id, time_point now) {
  const auto it = queues_.find(device_id);
  if (it == queues_.end()) return 0;
  drop_expired(it->second, now);
  return it->second.size();
}

}  // namespace mockhub::core
