// A device-to-cloud (telemetry) or cloud-to-device message: body, system properties and
// application properties, and their MQTT property-bag form (reference section 1.6).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace mockhub::device {

struct message {
  std::string body;  ///< bytes, sent and received unchanged
  std::optional<std::string> message_id{};        ///< $.mid
  std::optional<std::string> correlation_id{};    ///< $.cid
  std::optional<std::string> user_id{};           ///< $.uid
  std::optional<std::string> content_type{};      ///< $.ct  (set application/json + utf-8 to route on the body)
  std::optional<std::string> content_encoding{};  ///< $.ce
  std::optional<std::string> expiry_time_utc{};   ///< $.exp (ISO-8601, as sent)
  std::optional<std::string> to{};                ///< $.to  (cloud-to-device only)
  /// Application properties; nullopt is a property without a value (`key` alone in the bag).
  /// Cloud-to-device messages also carry the hub's `iothub-ack` here.
  std::map<std::string, std::optional<std::string>> properties{};

  bool operator==(const message&) const = default;
};

/// The bag after `devices/{id}/messages/events/`: system properties first ($.mid, $.cid, $.uid,
/// $.ct, $.ce, $.exp, $.to), then application properties in name order. Empty when there are none.
std::string encode_property_bag(const message& m);
/// Decodes a bag into a message's properties (body left empty). Unknown `$.` keys become
/// application properties. nullopt for a malformed percent escape.
std::optional<message> decode_property_bag(std::string_view bag);

}  // namespace mockhub::device
