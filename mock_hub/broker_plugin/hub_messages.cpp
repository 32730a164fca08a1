#include "hub_messages.hpp"

#include <optional>
#include <string>

namespace mockhub::broker_plugin::hub_messages {

namespace {
template <class T>
nlohmann::json or_null(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}
}  // namespace

nlohmann::json conn(const connection& c) {
  const connection_info& i = c.info;
  return {{"gen", c.gen},
          {"device", i.device_id},
          {"module", or_null(i.module_id)},
          {"api_version", or_null(i.api_version)},
          {"client_type", or_null(i.client_type)},
          {"model_id", or_null(i.model_id)},
          {"clean_session", i.clean_session},
          {"keepalive", i.keepalive},
          {"address", i.address},
          {"protocol_version", i.protocol_version},
          {"policy", or_null(i.policy)},
          {"expires", or_null(i.expires)}};
}

nlohmann::json disc(std::uint64_t gen) { return {{"gen", gen}}; }

nlohmann::json sub(std::uint64_t gen, std::string_view filter, int qos) {
  return {{"gen", gen}, {"filter", filter}, {"qos", qos}};
}

nlohmann::json unsub(std::uint64_t gen, std::string_view filter) { return {{"gen", gen}, {"filter", filter}}; }

nlohmann::json state(const connection_table& table) {
  nlohmann::json connections = nlohmann::json::array();
  for (const connection* c : table.by_generation()) {
    nlohmann::json entry = conn(*c);
    entry["id"] = c->info.client_id;
    nlohmann::json filters = nlohmann::json::array();
    for (const subscription& s : c->filters) filters.push_back({{"filter", s.filter}, {"qos", s.qos}});
    entry["filters"] = std::move(filters);
    connections.push_back(std::move(entry));
  }
  return {{"connections", std::move(connections)}};
}

}  // namespace mockhub::broker_plugin::hub_messages
