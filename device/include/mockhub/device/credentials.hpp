// What a device puts in its MQTT CONNECT (reference sections 1.2 and 2.1).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "mockhub/device/connection_string.hpp"

namespace mockhub::device {

/// The api-version every request of this library names.
inline constexpr std::string_view api_version = "2021-04-12";
/// The default `DeviceClientType` (the user agent of this library).
inline constexpr std::string_view default_client_type = "mockhub-device/0.1";

/// `{host}/{deviceId}[/{moduleId}]/?api-version=2021-04-12&DeviceClientType={percent-encoded type}`.
std::string make_username(const connection_string& cs, std::string_view client_type = default_client_type);

/// A SAS token for `resource_uri` signed with `key` (base64), expiring at `expiry` (whole seconds,
/// rounded down), as the official SDKs write it: `SharedAccessSignature sr=..&sig=..&se=..[&skn=..]`.
/// Throws std::invalid_argument when the key is not base64.
std::string make_sas_token(std::string_view resource_uri, std::string_view key,
                           std::chrono::system_clock::time_point expiry, std::string_view key_name = {});
/// The same with `se` given directly (Unix seconds).
std::string make_sas_token(std::string_view resource_uri, std::string_view key, std::int64_t expiry_seconds,
                           std::string_view key_name = {});

/// The `se` of a token (nullopt when it has none or it is not a number).
std::optional<std::int64_t> sas_token_expiry(std::string_view token);

}  // namespace mockhub::device
