#include "telemetry_log.hpp"

namespace mockhub::core {

std::uint64_t telemetry_log::append(device_to_cloud_message message) {
  message.sequence_number = next_sequence_++;
  auto it = buffers_.find(message.device_id);
  if (it == buffers_.end()) it = buffers_.emplace(message.device_id, std::deque<device_to_cloud_message>{}).first;
  auto& buffer = it->second;
  buffer.push_back(std::move(message));
  if (buffer.size() > capacity_) buffer.pop_front();
  // Listeners may remove themselves while being told: iterate over a snapshot of the ids.
  std::vector<listener_id> ids;
  for (const auto& [id, l] : listeners_) ids.push_back(id);
  for (const auto id : ids) {
    const auto l = listeners_.find(id);
    if (l != listeners_.end()) l->second(buffer.back());
  }
  return buffer.back().sequence_number;
}

std::vector<device_to_cloud_message> telemetry_log::messages(std::string_view device_id) const {
  const auto it = buffers_.find(device_id);
  if (it == buffers_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

void telemetry_log::forget(std::string_view device_id) {
  const auto it = buffers_.find(device_id);
  if (it != buffers_.end()) buffers_.erase(it);
}

telemetry_log::listener_id telemetry_log::add_listener(listener l) {
  const auto id = next_listener_++;
  listeners_.emplace(id, std::move(l));
  return id;
}

void telemetry_log::remove_listener(listener_id id) { listeners_.erase(id); }

}  // namespace mockhub::core
