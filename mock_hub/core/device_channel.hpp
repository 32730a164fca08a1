// What the hub core pushes towards devices and towards whoever admits them. The broker link
// implements it over MQTT (via the broker plugin); unit tests put a trompeloeil mock here.
// Calls happen on the hub's executor thread; an implementation must not call back into the hub.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "device_identity.hpp"
#include "messages.hpp"

namespace mockhub::core {

class device_channel {
 public:
  virtual ~device_channel() = default;

  /// A desired-property notification for a connected device subscribed to desired patches:
  /// the patch as applied plus "$version" (MQTT: $iothub/twin/PATCH/properties/desired/?$version=n).
  virtual void send_desired_patch(std::string_view device_id, const nlohmann::json& patch) = 0;

  /// A direct-method request (MQTT: $iothub/methods/POST/{name}/?$rid={rid}, QoS 0). `payload` is
  /// the JSON the caller gave (null for none).
  virtual void send_method_request(std::string_view device_id, std::string_view method_name,
                                   std::string_view request_id, const nlohmann::json& payload) = 0;
  /// The same with the payload already serialised (`null` for none), as the hub core sends it:
  /// a method job serialises its payload once for all its devices. A channel that publishes
  /// text (the broker link) overrides this; by default the payload is parsed back and handed
  /// to the overload above (test doubles, which compare values).
  virtual void send_serialized_method_request(std::string_view device_id, std::string_view method_name,
                                              std::string_view request_id, std::string_view payload_json) {
    send_method_request(device_id, method_name, request_id, nlohmann::json::parse(payload_json));
  }

  /// A cloud-to-device message for a connected device subscribed to its devicebound topic.
  virtual void send_cloud_to_device(std::string_view device_id, const cloud_to_device_message& message) = 0;

  /// The identity changed or was deleted (`identity` null): whoever admits connections must use
  /// the new keys and status from now on.
  virtual void identity_changed(std::string_view device_id, const device_identity* identity) = 0;

  /// End the device's connection (disabled, deleted, keys rolled).
  virtual void disconnect(std::string_view device_id) = 0;

  /// Send what the calls above have queued now, rather than when the executor's current task
  /// ends. The hub calls it when it has sent requests and then stays busy for a while: a job
  /// that starts its first devices while its query still runs. A channel that sends at once
  /// (test doubles) has nothing to do.
  virtual void flush() {}
};

}  // namespace mockhub::core
