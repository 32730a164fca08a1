// A device identity in the registry: the `Device` resource of the service REST API
// (reference/iothub-protocol.md section 5.1). The twin copies its read-only fields.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "clock.hpp"

namespace mockhub::core {

enum class device_status { enabled, disabled };
enum class connection_state { disconnected, connected };
enum class authentication_type { sas, self_signed, certificate_authority, none };

std::string_view to_string(device_status s) noexcept;            // "enabled" | "disabled"
std::string_view to_string(connection_state s) noexcept;         // "Connected" | "Disconnected"
std::string_view to_string(authentication_type t) noexcept;      // "sas" | "selfSigned" | ...

struct device_identity {
  std::string device_id;
  std::string generation_id;
  std::string etag;
  device_status status = device_status::enabled;
  std::string status_reason;
  std::optional<time_point> status_updated_time;
  connection_state connection = connection_state::disconnected;
  std::optional<time_point> connection_state_updated_time;
  std::optional<time_point> last_activity_time;
  std::int32_t cloud_to_device_message_count = 0;
  authentication_type auth_type = authentication_type::sas;
  std::string primary_key;    // base64, SAS devices
  std::string secondary_key;  // base64, SAS devices
  std::optional<std::string> primary_thumbprint;    // X.509 devices
  std::optional<std::string> secondary_thumbprint;  // X.509 devices
  bool iot_edge = false;
  std::string device_scope;
  std::vector<std::string> parent_scopes;
};

/// The wire `Device` JSON, as GET /devices/{id} returns it.
void to_json(nlohmann::json& j, const device_identity& d);

}  // namespace mockhub::core
