// mockhub's REST extension (docs/rest-extension.md): what the real hub offers only over AMQP or
// not at all, for tests in any language — reset the hub, read the telemetry a device sent, send
// a cloud-to-device message, drop a device's connection, read and move the virtual clock. Every
// endpoint lives under `/_mockhub/` and takes the same SAS auth as the service API.
//
//   mockhub::service::extension_client ext(connection_string, {.endpoint_override = ...});
//   ext.send_cloud_to_device("lock1", {.body = "unlock", .properties = {{"a", "1"}}});
//   for (const auto& m : ext.device_events("lock1")) ...
//
// Failures throw iothub_error or network_error, as service_client does. Works only against a
// mockhub (a real hub answers 404 for these paths).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "client_options.hpp"
#include "connection_string.hpp"

namespace mockhub::service {

namespace detail {
class http_transport;
}

/// A device-to-cloud message the hub kept (`GET /_mockhub/devices/{id}/messages/events`).
struct telemetry_message {
  /// The body as sent on the wire: UTF-8 text, or base64 when `body_encoding` is "base64".
  std::string body;
  std::string body_encoding = "utf-8";
  /// Application properties.
  std::map<std::string, std::string> properties;
  /// messageId, contentType, ... as the hub reports them.
  nlohmann::json system_properties = nlohmann::json::object();
  std::string enqueued_time_utc;
  /// The whole entry as returned.
  nlohmann::json document = nlohmann::json::object();
};
void from_json(const nlohmann::json& j, telemetry_message& m);

/// A cloud-to-device message (`POST /_mockhub/devices/{id}/messages/devicebound`).
struct cloud_to_device_message {
  /// UTF-8 text, or base64 when `body_encoding` is "base64".
  std::string body{};
  std::string body_encoding = "utf-8";
  std::map<std::string, std::string> properties{};
  /// Empty: the hub generates one.
  std::string message_id{};
  std::string correlation_id{};
  /// ISO-8601; empty: the hub's default time to live.
  std::string expiry_time_utc{};
  /// "none", "positive", "negative" or "full"; empty: not sent (the hub's default, none).
  std::string ack{};
};
void to_json(nlohmann::json& j, const cloud_to_device_message& m);

/// `GET /_mockhub/clock`.
struct hub_clock {
  std::string now;
  bool is_virtual = false;
};

class extension_client {
 public:
  /// Throws std::invalid_argument for a connection string, key, endpoint or CA file that cannot work.
  explicit extension_client(std::string_view connection_string, client_options options = {});
  ~extension_client();
  extension_client(const extension_client&) = delete;
  extension_client& operator=(const extension_client&) = delete;

  /// `POST /_mockhub/reset`: deletes every device and job; policies stay; the clock does not move.
  void reset();
  /// The telemetry `device_id` sent, oldest first; with `since`, only what was enqueued after it.
  /// 404001 DeviceNotFound.
  std::vector<telemetry_message> device_events(std::string_view device_id, std::string_view since = {});
  /// Queues a cloud-to-device message as the hub's AMQP endpoint would; returns its message id.
  /// 404001; the queue's limits as the core enforces them.
  std::string send_cloud_to_device(std::string_view device_id, const cloud_to_device_message& message);
  /// `POST /_mockhub/devices/{id}/faults`: `type` "disconnect" drops the device's MQTT connection.
  /// 400004 ArgumentInvalid for a type the hub does not know.
  void inject_fault(std::string_view device_id, std::string_view type);
  /// The hub's time and whether its clock is virtual.
  hub_clock clock();
  /// Moves a virtual clock by `seconds` (>= 0) and returns the new time, once everything that
  /// became due has run. 400004 on a hub with the system clock.
  std::string advance_clock(double seconds);

 private:
  std::shared_ptr<detail::http_transport> transport_;
};

}  // namespace mockhub::service
