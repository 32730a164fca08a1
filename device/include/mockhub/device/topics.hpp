// The IoT Hub MQTT topics a device uses (reference section 1.5), built and parsed in one place.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mockhub/device/message.hpp"

namespace mockhub::device::topics {

inline constexpr std::string_view methods_filter = "$iothub/methods/POST/#";
inline constexpr std::string_view twin_responses_filter = "$iothub/twin/res/#";
inline constexpr std::string_view desired_filter = "$iothub/twin/PATCH/properties/desired/#";
/// `devices/{id}/messages/devicebound/#`
std::string cloud_to_device_filter(std::string_view device_id);

/// `devices/{id}/messages/events/{bag}`
std::string telemetry(std::string_view device_id, const message& m);
/// `$iothub/methods/res/{status}/?$rid={rid}`
std::string method_response(int status, std::string_view request_id);
/// `$iothub/twin/GET/?$rid={rid}`
std::string twin_get(std::string_view request_id);
/// `$iothub/twin/PATCH/properties/reported/?$rid={rid}`
std::string twin_patch_reported(std::string_view request_id);

/// `$iothub/methods/POST/{name}/?$rid={rid}` (name and rid percent-decoded).
struct method_request_topic {
  std::string method_name;
  std::string request_id;
};
std::optional<method_request_topic> parse_method_request(std::string_view topic);

/// `$iothub/twin/res/{status}/?$rid={rid}[&$version={n}]`
struct twin_response_topic {
  int status = 0;
  std::string request_id;
  std::optional<std::int64_t> version;
};
std::optional<twin_response_topic> parse_twin_response(std::string_view topic);

/// `$iothub/twin/PATCH/properties/desired/?$version={n}`: the version (nullopt for another topic;
/// 0 when the topic names none, then the body's `$version` counts).
std::optional<std::int64_t> parse_desired_patch(std::string_view topic);

/// `devices/{id}/messages/devicebound/{bag}`: the properties (body left empty).
std::optional<message> parse_cloud_to_device(std::string_view topic, std::string_view device_id);

}  // namespace mockhub::device::topics
