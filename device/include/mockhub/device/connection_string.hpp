// A device connection string, as the Azure portal and the official SDKs write it:
//
//   HostName=myhub.azure-devices.net;DeviceId=dev1;SharedAccessKey=<base64>[;GatewayHostName=host[:port]]
//
// Also accepted: ModuleId (a module identity), SharedAccessKeyName (a policy key with DeviceConnect
// instead of the device's own key), SharedAccessSignature (a ready-made token instead of a key).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mockhub::device {

/// A malformed connection string; `what()` names the field and the problem (never the key).
class connection_string_error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct connection_string {
  std::string host_name;  ///< HostName: the hub, also what SAS tokens are scoped to (`sr`)
  std::string device_id;  ///< DeviceId
  std::optional<std::string> module_id{};
  std::optional<std::string> shared_access_key{};       ///< base64
  std::optional<std::string> shared_access_key_name{};  ///< policy name when the key is a policy's
  std::optional<std::string> shared_access_signature{};  ///< a whole token, used as given
  /// GatewayHostName: where to connect instead of HostName (tokens stay scoped to HostName).
  std::optional<std::string> gateway_host{};
  std::optional<std::uint16_t> gateway_port{};

  /// Parses `Key=Value` pairs separated by `;` (a trailing `;` is fine; a value may contain `=`,
  /// as base64 keys do). Field names are case-sensitive, as in the SDKs. Throws
  /// connection_string_error for: a segment without `=`, an empty name or value, a duplicate or
  /// unknown field, a missing HostName or DeviceId, neither SharedAccessKey nor
  /// SharedAccessSignature (or both), SharedAccessKeyName without SharedAccessKey, a key that is
  /// not base64, a GatewayHostName port that is not 1..65535.
  static connection_string parse(std::string_view text);

  /// The device's resource in SAS tokens: `{host}/devices/{id}[/modules/{module}]`.
  std::string resource_uri() const;
  /// The MQTT client id: `{deviceId}` or `{deviceId}/{moduleId}`.
  std::string client_id() const;
  /// Where to connect: the gateway when one is named, else HostName.
  const std::string& connect_host() const noexcept { return gateway_host ? *gateway_host : host_name; }

  /// Back to text, fields in the canonical order (includes the key: treat as a secret).
  std::string to_string() const;
  bool operator==(const connection_string&) const = default;
};

}  // namespace mockhub::device
