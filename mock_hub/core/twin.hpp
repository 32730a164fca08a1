// A device twin (reference/iothub-protocol.md section 3): tags, desired and reported properties,
// `$metadata`, `$version`s, the twin `etag` and `version`, and every documented limit.
//
// The twin keeps its whole document in the wire shape that `GET /twins/{id}` returns, so that
// reads and twin queries see it without copying:
//
//   { "deviceId": "d1", "etag": "AAAAAAAAAAE=", "deviceEtag": "...", "status": "enabled", ...,
//     "version": 1, "tags": {...},
//     "properties": { "desired":  { ..., "$metadata": {...}, "$version": 1 },
//                     "reported": { ..., "$metadata": {...}, "$version": 1 } } }
//
// Every operation validates first and changes nothing when it throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "clock.hpp"
#include "device_identity.hpp"

namespace mockhub::core {

class twin {
 public:
  /// A new twin for `identity`, created at `now`: no tags, empty desired and reported.
  twin(const device_identity& identity, time_point now);

  /// Copies the identity's read-only fields (status, connection state, last activity, deviceEtag, ...)
  /// into the document. Called by the registry whenever the identity changes.
  void sync_identity(const device_identity& identity);

  /// The whole twin in wire shape (see above).
  const nlohmann::json& document() const noexcept { return doc_; }

  std::string etag() const;              // e.g. "AAAAAAAAAAE=" (unquoted)
  std::int64_t version() const;
  std::int64_t desired_version() const;
  std::int64_t reported_version() const;

  /// True when `if_match` (an etag, quoted or not, or "*") matches this twin's etag.
  bool etag_matches(std::string_view if_match) const;

  /// Devices_UpdateTwin (PATCH /twins/{id}): `patch` may hold `tags` and `properties.desired`
  /// (deep merge, null deletes); other members are ignored as the hub does. Returns the desired
  /// notification for the device (the desired patch as applied, plus "$version") when desired changed.
  /// Throws hub_error (no change made) on any rule or limit violation.
  std::optional<nlohmann::json> update(const nlohmann::json& patch, time_point now);

  /// Devices_ReplaceTwin (PUT /twins/{id}): replaces tags and desired wholesale. Returns the desired
  /// notification (the new desired properties, plus "$version") when desired changed.
  std::optional<nlohmann::json> replace(const nlohmann::json& replacement, time_point now);

  /// The device path's reported-properties PATCH: deep merge, null deletes. Returns the new
  /// reported `$version`. Throws hub_error (no change made) on any rule or limit violation.
  std::int64_t update_reported(const nlohmann::json& patch, time_point now);

  /// What the device receives for a twin GET over MQTT: {"desired": {...,"$version":n}, "reported": {...,"$version":m}}.
  nlohmann::json device_view() const;

 private:
  nlohmann::json doc_;
  std::int64_t etag_counter_ = 1;
};

}  // namespace mockhub::core
