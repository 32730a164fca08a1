// The topics an IoT Hub device or module may use (reference sections 1.4 and 1.5), and nothing
// else: what the plugin lets a device publish, subscribe to and read. Exact, case-sensitive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mockhub::broker_plugin {

/// Who a topic is checked for: a device, or a module of a device.
struct topic_identity {
  std::string_view device_id;
  std::optional<std::string_view> module_id{};
};

/// What a device publish is.
enum class publish_kind : std::uint8_t {
  telemetry,            // devices/{id}/messages/events[/{property bag}] (module: devices/{id}/modules/{mid}/messages/events...)
  twin_get,             // $iothub/twin/GET/?$rid={rid}
  twin_reported_patch,  // $iothub/twin/PATCH/properties/reported/?$rid={rid}
  method_response,      // $iothub/methods/res/{integer status}/?$rid={rid}
};

/// What a device subscription is; the same four the hub core knows (device_subscription).
enum class filter_kind : std::uint8_t {
  methods,          // $iothub/methods/POST/#
  twin_responses,   // $iothub/twin/res/#
  desired_patches,  // $iothub/twin/PATCH/properties/desired/#
  cloud_to_device,  // devices/{id}/messages/devicebound/# (module: devices/{id}/modules/{mid}/#)
};

std::string_view to_string(publish_kind kind) noexcept;
std::string_view to_string(filter_kind kind) noexcept;

/// What `topic` is when `who` publishes it; nullopt for anything a device may not publish: another
/// identity's telemetry, a twin or method topic without `$rid` (or with a non-integer status),
/// other `$iothub/` topics, and every other topic (`$hub/...` included).
std::optional<publish_kind> classify_publish(std::string_view topic, const topic_identity& who);

/// The largest device-to-cloud message the real hub takes: 256 KB [Doc quotas], counted here as
/// the payload plus the property bag as sent (docs/fidelity.md, "D2C message size").
inline constexpr std::size_t max_telemetry_size = 262'144;

/// The property bag of `who`'s telemetry topic: what follows `messages/events/` (empty when
/// nothing does, or when `topic` is not `who`'s telemetry).
std::string_view telemetry_property_bag(std::string_view topic, const topic_identity& who);

/// What `filter` is when `who` subscribes to it; nullopt for any other filter (wildcards over
/// subtopics, another identity's topics, `#`, `$hub/...`, ...).
std::optional<filter_kind> classify_filter(std::string_view filter, const topic_identity& who);

/// Whether `who` may receive a message on `topic`: its own `$iothub/...` topics (they carry no
/// device id; the plugin delivers them to one client only) and its own cloud-to-device topics.
bool may_read(std::string_view topic, const topic_identity& who);

/// The longest `$rid` accepted, in bytes as sent (a mockhub limit: SDKs send integers or GUIDs).
/// The hub echoes it in its reply topic, which must stay within MQTT's 65,535-byte topic limit
/// once the `$hub/out/{clientId}/` prefix is added; a longer one makes the publish unsupported.
inline constexpr std::size_t max_request_id_bytes = 1024;

/// The request id of a twin or method topic: the `$rid` query value (the part after `?`,
/// `&`-separated pairs, key compared after percent-decoding). nullopt when absent, empty or
/// longer than max_request_id_bytes.
std::optional<std::string> request_id(std::string_view topic);

}  // namespace mockhub::broker_plugin
