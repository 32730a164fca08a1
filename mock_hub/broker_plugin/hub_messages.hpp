// The JSON payloads the plugin publishes to the hub (README.md, "plugin -> hub").
#pragma once

#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "connection_table.hpp"

namespace mockhub::broker_plugin::hub_messages {

/// `$hub/conn/{id}`: {"gen","device","module","api_version","client_type","model_id",
/// "clean_session","keepalive","address","protocol_version","policy","expires"}; absent
/// optional values are null.
nlohmann::json conn(const connection& c);
/// `$hub/disc/{id}`: {"gen"}.
nlohmann::json disc(std::uint64_t gen);
/// `$hub/sub/{id}`: {"gen","filter","qos"} (qos as granted to the device, at most 1).
nlohmann::json sub(std::uint64_t gen, std::string_view filter, int qos);
/// `$hub/unsub/{id}`: {"gen","filter"}.
nlohmann::json unsub(std::uint64_t gen, std::string_view filter);
/// `$hub/state`: {"connections":[{"id", ...the conn fields..., "filters":[{"filter","qos"}]}]},
/// oldest generation first.
nlohmann::json state(const connection_table& table);

}  // namespace mockhub::broker_plugin::hub_messages
