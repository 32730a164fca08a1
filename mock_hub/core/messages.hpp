// Device-to-cloud (telemetry) and cloud-to-device messages, transport-free
// (reference section 1.6: the MQTT property bag carries the same system and application properties).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "clock.hpp"

namespace mockhub::core {

/// The system properties a message can carry. Names follow the service SDKs; the MQTT keys
/// (`$.mid`, `$.cid`, ...) are the broker link's business.
struct system_properties {
  std::optional<std::string> message_id;        // $.mid
  std::optional<std::string> correlation_id;    // $.cid
  std::optional<std::string> user_id;           // $.uid
  std::optional<std::string> content_type;      // $.ct
  std::optional<std::string> content_encoding;  // $.ce
  std::optional<std::string> expiry_time_utc;   // $.exp (as sent, ISO-8601)
  std::optional<std::string> to;                // $.to
  std::optional<std::string> output_name;       // $.on
  std::optional<std::string> interface_id;      // $.ifid
  bool operator==(const system_properties&) const = default;
};

/// Application properties. A null value (`key` with no `=` in a property bag) is nullopt.
using application_properties = std::map<std::string, std::optional<std::string>>;

/// A message a device sent (telemetry), as the hub received it.
struct device_to_cloud_message {
  std::string device_id;
  std::string body;  // bytes, unchanged
  system_properties system;
  application_properties application;
  time_point enqueued_time{};
  std::uint64_t sequence_number = 0;  // 1, 2, ... across the hub, in arrival order
};
void to_json(nlohmann::json& j, const device_to_cloud_message& m);

/// A message for a device. `expiry` is absolute; an expired message is never delivered.
struct cloud_to_device_message {
  std::string body;
  std::optional<std::string> message_id;
  std::optional<std::string> correlation_id;
  std::optional<std::string> user_id;
  std::optional<std::string> content_type;
  std::optional<std::string> content_encoding;
  std::optional<std::string> ack;  // iothub-ack: none | positive | negative | full
  application_properties application;
  std::optional<time_point> expiry;
  std::string to;  // /devices/{id}/messages/devicebound, set by the hub
};
void to_json(nlohmann::json& j, const cloud_to_device_message& m);

}  // namespace mockhub::core
