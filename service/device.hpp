// Identity registry types (reference section 5.1): a device identity and the registry statistics.
// Times are kept as the ISO-8601 text the hub wrote ("0001-01-01T00:00:00Z" for never), so a
// value read is exactly the value sent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mockhub::service {

enum class device_status { enabled, disabled };
enum class connection_state { disconnected, connected };
enum class authentication_type { sas, self_signed, certificate_authority, none };

/// A device identity (`Device`). For a create, only `device_id` is needed: the hub generates
/// missing SAS keys and fills in the rest.
struct device {
  std::string device_id;
  std::string generation_id;
  /// The identity's etag (unquoted), for update_device/delete_device with if_match::etag.
  std::string etag;
  device_status status = device_status::enabled;
  std::string status_reason;
  connection_state connection = connection_state::disconnected;
  std::string connection_state_updated_time;
  std::string status_updated_time;
  std::string last_activity_time;
  std::int64_t cloud_to_device_message_count = 0;
  authentication_type authentication = authentication_type::sas;
  /// SAS keys (base64); empty on create: the hub generates them.
  std::string primary_key;
  std::string secondary_key;
  /// X.509 thumbprints (selfSigned).
  std::string primary_thumbprint;
  std::string secondary_thumbprint;
  bool iot_edge = false;
  std::string device_scope;
  std::vector<std::string> parent_scopes;
  /// The whole identity as returned (empty object for one built by the caller); not sent.
  nlohmann::json document = nlohmann::json::object();

  bool operator==(const device&) const = default;
};

/// What a create or update sends: the writable members (deviceId, status, statusReason,
/// authentication, capabilities, deviceScope, parentScopes; etag when not empty).
void to_json(nlohmann::json& j, const device& d);
/// Reads a `Device` as the hub returns it; missing members keep their defaults.
void from_json(const nlohmann::json& j, device& d);

/// `GET /statistics/devices`.
struct device_statistics {
  std::int64_t total_device_count = 0;
  std::int64_t enabled_device_count = 0;
  std::int64_t disabled_device_count = 0;
  bool operator==(const device_statistics&) const = default;
};
void from_json(const nlohmann::json& j, device_statistics& s);

/// `GET /statistics/service`.
struct service_statistics {
  std::int64_t connected_device_count = 0;
  bool operator==(const service_statistics&) const = default;
};
void from_json(const nlohmann::json& j, service_statistics& s);

const char* to_string(device_status s) noexcept;         // "enabled" | "disabled"
const char* to_string(connection_state s) noexcept;      // "Disconnected" | "Connected"
const char* to_string(authentication_type t) noexcept;   // "sas" | "selfSigned" | "certificateAuthority" | "none"

}  // namespace mockhub::service
