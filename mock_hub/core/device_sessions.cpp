#include "device_sessions.hpp"

namespace mockhub::core {

device_session* device_sessions::find_mutable(std::string_view device_id) {
  auto* e = index_.find(device_id);
  return e ? &e->second : nullptr;
}

const device_session* device_sessions::find(std::string_view device_id) const {
  const auto* e = index_.find(device_id);
  return e ? &e->second : nullptr;
}

device_session& device_sessions::find_or_add(std::string_view device_id) {
  if (auto* s = find_mutable(device_id)) return *s;
  auto& e = *sessions_.emplace(std::string(device_id), device_session{}).first;
  index_.insert_or_assign(e);
  return e.second;
}

device_session* device_sessions::current(std::string_view device_id, std::uint64_t generation) {
  auto* s = find_mutable(device_id);
  return s && s->connected && s->connection.generation == generation ? s : nullptr;
}

bool device_sessions::connect(std::string_view device_id, const connection_info& info) {
  device_session& s = find_or_add(device_id);
  if (s.connection.generation > info.generation) return false;
  // A persistent session keeps what the previous connection subscribed to, as the broker does.
  if (info.clean_session) s.subscriptions = 0;
  s.connection = info;
  s.connected = true;
  return true;
}

bool device_sessions::disconnect(std::string_view device_id, std::uint64_t generation) {
  device_session* s = current(device_id, generation);
  if (!s) return false;
  s->connected = false;
  if (s->connection.clean_session) s->subscriptions = 0;
  return true;
}

bool device_sessions::subscribe(std::string_view device_id, std::uint64_t generation, device_subscription sub) {
  device_session* s = current(device_id, generation);
  if (!s) return false;
  s->subscriptions |= static_cast<std::uint8_t>(sub);
  return true;
}

bool device_sessions::unsubscribe(std::string_view device_id, std::uint64_t generation, device_subscription sub) {
  device_session* s = current(device_id, generation);
  if (!s) return false;
  s->subscriptions &= static_cast<std::uint8_t>(~static_cast<std::uint8_t>(sub));
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

void device_sessions::reconcile(const std::vector<std::pair<std::string, device_session>>& live) {
  for (auto& [id, s] : sessions_) {
    s.connected = false;
    if (s.connection.clean_session) s.subscriptions = 0;
  }
  for (const auto& [id, live_session] : live) {
    device_session& s = find_or_add(id);
    s = live_session;
    s.connected = true;
  }
}

void device_sessions::forget(std::string_view device_id) {
  const auto it = sessions_.find(device_id);
  if (it == sessions_.end()) return;
  index_.erase(device_id);
  sessions_.erase(it);
}

std::vector<std::string> device_sessions::connected_devices() const {
  std::vector<std::string> out;
  for (const auto& [id, s] : sessions_)
    if (s.connected) out.push_back(id);
  return out;
}

}  // namespace mockhub::core
