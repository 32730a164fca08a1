#include "device_sessions.hpp"

#include <algorithm>

namespace mockhub::core {

bool device_sessions::connect(std::string_view device_id, const connection_info& info) {
  auto it = sessions_.find(device_id);
  if (it == sessions_.end()) it = sessions_.emplace(std::string(device_id), device_session{}).first;
  device_session& s = it->second;
  if (s.connection.generation > info.generation) return false;
  // A persistent session keeps what the previous connection subscribed to, as the broker does.
  if (info.clean_session) s.subscriptions = 0;
  s.connection = info;
  s.connected = true;
  return true;
}

bool device_sessions::disconnect(std::string_view device_id, std::uint64_t generation) {
  const auto it = sessions_.find(device_id);
  if (it == sessions_.end() || !it->second.connected || it->second.connection.generation != generation) return false;
  it->second.connected = false;
  if (it->second.connection.clean_session) it->second.subscriptions = 0;
  return true;
}

bool device_sessions::subscribe(std::string_view device_id, std::uint64_t generation, device_subscription sub) {
  const auto it = sessions_.find(device_id);
  if (it == sessions_.end() || !it->second.connected || it->second.connection.generation != generation) return false;
  it->second.subscriptions |= static_cast<std::uint8_t>(sub);
  return true;
}

bool device_sessions::unsubscribe(std::string_view device_id, std::uint64_t generation, device_subscription sub) {
  const auto it = sessions_.find(device_id);
  if (it == sessions_.end() || !it->second.connected || it->second.connection.generation != generation) return false;
  it->second.subscriptions &= static_cast<std::uint8_t>(~static_cast<std::uint8_t>(sub));
  return true;
}

bool device_sessions::is_connected(std::string_view device_id) const {
  const auto* s = find(device_id);
  return s && s->connected;
}

bool device_sessions::is_subscribed(std::string_view device_id, device_subscription sub) const {
  const auto* s = find(device_id);
  return s && s->connected && s->subscribed(sub);
}

const device_session* device_sessions::find(std::string_view device_id) const {
  const auto it = sessions_.find(device_id);
  return it == sessions_.end() ? nullptr : &it->second;
}

void device_sessions::reconcile(const std::vector<std::pair<std::string, device_session>>& live) {
  for (auto& [id, s] : sessions_) {
    s.connected = false;
    if (s.connection.clean_session) s.subscriptions = 0;
  }
  for (const auto& [id, live_session] : live) {
    device_session& s = sessions_[id];
    s = live_session;
    s.connected = true;
  }
}

void device_sessions::forget(std::string_view device_id) {
  const auto it = sessions_.find(device_id);
  if (it != sessions_.end()) sessions_.erase(it);
}

std::vector<std::string> device_sessions::connected_devices() const {
  std::vector<std::string> out;
  for (const auto& [id, s] : sessions_)
    if (s.connected) out.push_back(id);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace mockhub::core
