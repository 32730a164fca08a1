#include "connection_table.hpp"

#include <algorithm>
#include <utility>

namespace mockhub::broker_plugin {

std::uint64_t connection_table::add(handle h, connection_info info) {
  const std::uint64_t gen = ++last_gen_;
  connections_.insert_or_assign(h, connection{.gen = gen, .info = std::move(info)});
  return gen;
}

std::optional<connection> connection_table::remove(handle h) {
  const auto it = connections_.find(h);
  if (it == connections_.end()) return std::nullopt;
  connection removed = std::move(it->second);
  connections_.erase(it);
  return removed;
}

const connection* connection_table::find(handle h) const {
  const auto it = connections_.find(h);
  return it == connections_.end() ? nullptr : &it->second;
}

connection_table::subscribe_result connection_table::subscribe(handle h, std::string_view filter, int qos) {
  const auto it = connections_.find(h);
  if (it == connections_.end()) return subscribe_result::unknown;
  auto& filters = it->second.filters;
  if (const auto existing = std::ranges::find(filters, filter, &subscription::filter); existing != filters.end()) {
    existing->qos = qos;
    return subscribe_result::replaced;
  }
  if (filters.size() >= max_filters) return subscribe_result::too_many;
  filters.push_back(subscription{.filter = std::string(filter), .qos = qos});
  return subscribe_result::added;
}

bool connection_table::unsubscribe(handle h, std::string_view filter) {
  const auto it = connections_.find(h);
  if (it == connections_.end()) return false;
  auto& filters = it->second.filters;
  const auto existing = std::ranges::find(filters, filter, &subscription::filter);
  if (existing == filters.end()) return false;
  filters.erase(existing);
  return true;
}

bool connection_table::set_closing(std::string_view client_id, bool closing) {
  connection* newest = nullptr;
  for (auto& [h, c] : connections_)
    if (c.info.client_id == client_id && (newest == nullptr || c.gen > newest->gen)) newest = &c;
  if (newest == nullptr) return false;
  newest->closing = closing;
  return true;
}

std::vector<const connection*> connection_table::by_generation() const {
  std::vector<const connection*> all;
  all.reserve(connections_.size());
  for (const auto& [h, c] : connections_) all.push_back(&c);
  std::ranges::sort(all, {}, &connection::gen);
  return all;
}

}  // namespace mockhub::broker_plugin
