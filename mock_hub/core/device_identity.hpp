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

/// What a `PUT /devices/{id}` body asks for. Read-only members of the body (generationId,
/// connectionState, times, counts) are ignored, as the hub ignores them; absent members are
/// nullopt so that an update can tell "not given" from "given empty".
struct device_identity_request {
  std::string device_id;
  std::optional<std::string> etag;
  std::optional<device_status> status;
  std::optional<std::string> status_reason;
  std::optional<authentication_type> auth_type;
  std::optional<std::string> primary_key;
  std::optional<std::string> secondary_key;
  std::optional<std::string> primary_thumbprint;
  std::optional<std::string> secondary_thumbprint;
  std::optional<bool> iot_edge;
  std::optional<std::string> device_scope;
  std::optional<std::vector<std::string>> parent_scopes;

  /// Reads a wire `Device` body. Throws hub_error ArgumentInvalid (400004) naming the member
  /// when a member has the wrong type or an unknown enum value (status, authentication.type).
  static device_identity_request from_json(const nlohmann::json& body);
};

/// Device id rules (reference section 3.1): 1 to 128 characters, ASCII letters and digits and
/// `- : . + % _ # * ? ! ( ) , = @ ; $ '`. Throws hub_error ArgumentInvalid (400004) naming the id.
void validate_device_id(std::string_view device_id);

}  // namespace mockhub::core
