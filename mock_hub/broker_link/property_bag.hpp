// The MQTT property bag of IoT Hub topics (reference section 1.6): `key=value&key2=value2`, each
// key and value percent-encoded; a key alone means a null value, `key=` an empty string.
// System properties use the `$.` keys (`$.mid` message id, `$.cid` correlation id, ...).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mock_hub/core/messages.hpp"

namespace mockhub::broker_link {

/// Splits a property bag into system and application properties. Unknown `$.` keys and
/// `iothub-*` keys are kept as application properties. nullopt for a malformed escape.
struct decoded_properties {
  core::system_properties system;
  core::application_properties application;
};
std::optional<decoded_properties> decode_property_bag(std::string_view bag);

/// The property bag of a cloud-to-device message as the hub writes it after
/// `devices/{id}/messages/devicebound/`: system properties first (`$.mid`, `$.cid`, `$.uid`,
/// `$.ct`, `$.ce`, `$.to`, `$.exp`, `iothub-ack`), then application properties.
std::string encode_property_bag(const core::cloud_to_device_message& message);

}  // namespace mockhub::broker_link
