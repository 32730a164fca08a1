// The MQTT CONNECT username of an IoT Hub device or module (reference section 1.2):
//
//   {host}/{deviceId}/?api-version=2021-04-12&DeviceClientType=...&model-id=...
//   {host}/{deviceId}/{moduleId}/?api-version=...
//   {host}/{deviceId}/api-version=2016-11-14&DeviceClientType=...    (the C SDK, no `?`)
//
// Parsed tolerantly, as the real hub does: host and ids first, then whatever query follows as
// `&`-separated key=value pairs, values percent-decoded.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mockhub::broker_plugin {

struct iothub_username {
  std::string host;
  std::string device_id;
  std::optional<std::string> module_id;
  /// The query pairs in order, values percent-decoded ('+' as a space, as .NET decodes); a value
  /// with a malformed escape is kept as written; a key without '=' has an empty value.
  std::vector<std::pair<std::string, std::string>> query;

  /// The value of the first query key equal to `key`, compared case-insensitively.
  std::optional<std::string> parameter(std::string_view key) const;
  std::optional<std::string> api_version() const { return parameter("api-version"); }
  std::optional<std::string> client_type() const { return parameter("DeviceClientType"); }
  std::optional<std::string> model_id() const { return parameter("model-id"); }

  /// The MQTT client id this identity must connect with: `deviceId` or `deviceId/moduleId`.
  std::string client_id() const { return module_id ? device_id + "/" + *module_id : device_id; }
};

/// Splits a username. The query starts at the first `/?` (or a `?` right after the host); without
/// one, at the first segment after the device id that contains '=' (a module id never does in
/// that form). Ids are taken as written (SDKs do not encode them). nullopt when there is no host
/// or no device id, or more than host/device/module before the query.
std::optional<iothub_username> parse_iothub_username(std::string_view username);

}  // namespace mockhub::broker_plugin
