// A device twin (reference/iothub-protocol.md section 3): tags, desired and reported properties,
// `$metadata`, `$version`s, the twin `etag` and `version`, and every documented limit
// (twin_limits.hpp).
//
// The twin keeps its whole document in the wire shape that `GET /twins/{id}` returns, packed
// (packed_json.hpp: one allocation about the size of its JSON), so that twin queries read it in
// place and a registry of 100,000 twins stays small:
//
//   { "deviceId": "d1", "etag": "AAAAAAAAAAE=", "deviceEtag": "...", "status": "enabled", ...,
//     "version": 2, "tags": {...},
//     "properties": { "desired":  { ..., "$metadata": {...}, "$version": 1 },
//                     "reported": { ..., "$metadata": {...}, "$version": 1 } } }
//
// Like the real hub, the document has no `tags` member while there are no tags, and no
// `generationId` or `connectionStateUpdatedTime` (devguide-device-twins.md).
//
// `$metadata` mirrors desired and reported: every node, objects and leaves alike, carries
// `$lastUpdated` (the time of the write that last touched it), the `$metadata` root too; desired
// nodes also carry `$lastUpdatedVersion` (the desired `$version` that last set them), except the
// root of a twin whose desired properties were never written (as the hub shows a new twin).
// A write refreshes the nodes it touched and their ancestors, keeps every other node's metadata,
// and drops the metadata of the keys it deletes.
//
// Versions and etag, as the real hub moves them (arithmetic of real twins printed in the docs and
// samples: az CLI output in MicrosoftDocs azure-docs articles/iot-hub/device-twins-cli.md, the
// Event Grid DeviceCreated sample, IoT Edge and SDK sample output):
// - a new twin: etag "AAAAAAAAAAE=" (base64 of the 8-byte big-endian counter 1), version 2,
//   desired and reported `$version` 1;
// - a back-end write (update or replace) that changes tags and/or desired: etag counter +1 and
//   version +1, once per operation; desired `$version` +1 when desired changed;
// - a device reported write: version +1 and reported `$version` +1; the etag does not move;
// - sync_identity (status, connection state...) moves nothing.
//
// What counts as a write: setting any value, even to the value it already has (the hub does not
// compare values, Azure/iotedge#1252), deleting a key that exists, or creating an object. A
// request that only deletes absent keys or merges `{}` into existing objects changes nothing:
// no version moves, no notification (observed on the service path, azure-iot-sdk-node#64).
//
// Every operation validates first and changes nothing when it throws (strong guarantee).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "clock.hpp"
#include "device_identity.hpp"
#include "packed_json.hpp"
#include "twin_limits.hpp"

namespace mockhub::core {

class twin {
 public:
  /// A new twin for `identity`, created at `now`: no tags, empty desired and reported (each with a
  /// `$metadata` of `{"$lastUpdated": now}` and `$version` 1), etag "AAAAAAAAAAE=", version 2.
  twin(const device_identity& identity, time_point now);

  /// A twin rebuilt from a stored `document()`; its etag counter is read back from the etag.
  /// Throws std::invalid_argument when the document is not a twin's (no etag of 8 bytes, no
  /// integer version, or a desired or reported section without `$metadata` and `$version`).
  explicit twin(const nlohmann::json& document);

  /// Copies the identity's read-only fields into the document: deviceId, deviceEtag (the identity
  /// etag), status, statusReason, statusUpdateTime (the identity's statusUpdatedTime), connectionState,
  /// lastActivityTime, cloudToDeviceMessageCount, authenticationType, x509Thumbprint, capabilities,
  /// and deviceScope/parentScopes when set. generationId and connectionStateUpdatedTime are not
  /// copied. Called by the registry whenever the identity changes; moves neither version nor etag.
  void sync_identity(const device_identity& identity);
  /// sync_identity for lastActivityTime alone, the one field every device message moves: one
  /// timestamp written over the old one in place.
  void sync_last_activity(const device_identity& identity);

  /// Records the IoT Plug and Play model id a device announced when it connected (`modelId`,
  /// "" by default). Read-only for clients; moves neither version nor etag.
  void set_model_id(std::string model_id);

  /// The whole twin in wire shape (see above), unpacked: a copy.
  nlohmann::json document() const { return doc_.to_json(); }
  /// The whole twin in wire shape, packed, as queries read it.
  packed_view packed() const noexcept { return doc_.view(); }

  std::string etag() const;              // e.g. "AAAAAAAAAAE=" (unquoted)
  std::int64_t version() const;
  std::int64_t desired_version() const;
  std::int64_t reported_version() const;

  /// True when `if_match` (an etag, quoted or not, or "*" quoted or not) matches this twin's etag.
  bool etag_matches(std::string_view if_match) const;

  /// Devices_UpdateTwin (PATCH /twins/{id}): `patch` may hold `tags` and `properties.desired`,
  /// each deep-merged (JSON merge patch: objects merge, a `null` member deletes, anything else
  /// replaces). Other members (deviceId, etag, version, ...) are ignored, as the hub does; a
  /// `tags` or `desired` of null counts as absent. `properties.reported` must be absent or `{}`
  /// (the C# service SDK always sends `"reported": {}`): the back end cannot write reported
  /// properties, and anything else is refused with ArgumentInvalid (400004).
  /// Returns the desired notification for the device, the desired patch exactly as given (nulls
  /// included) plus "$version", when desired changed; nullopt otherwise.
  /// Throws hub_error (no change made): ArgumentInvalid (400004) for a malformed body or a
  /// broken key/value/depth rule, DeviceModelMaxPropertiesExceeded (403100) for a section
  /// over its size.
  std::optional<nlohmann::json> update(const nlohmann::json& patch, time_point now);

  /// Devices_ReplaceTwin (PUT /twins/{id}): replaces `tags` and `properties.desired` wholesale,
  /// each one that the request holds (a section the request lacks is left as it is; null members
  /// of the replacement are dropped). Every replaced section counts as written, so the etag and
  /// version move and desired metadata is rebuilt at `now`. Other members are ignored;
  /// `properties.reported` as for update(). Returns the desired notification, the new desired
  /// properties plus "$version", when the request replaced desired. Throws as update().
  std::optional<nlohmann::json> replace(const nlohmann::json& replacement, time_point now);

  /// The device path's reported-properties PATCH ($iothub/twin/PATCH/properties/reported/):
  /// deep merge, null deletes, `$metadata`/`$version` cannot be written (refused like any key
  /// with '$'). Returns the reported `$version` after the patch (unchanged when the patch
  /// changed nothing). Throws hub_error (no change made) as update().
  std::int64_t update_reported(const nlohmann::json& patch, time_point now);

  /// What the device receives for a twin GET over MQTT:
  /// {"desired": {...,"$version":n}, "reported": {...,"$version":m}}, without tags and without
  /// `$metadata`, as device SDK samples print the real hub's answer (e.g.
  /// `{"desired":{"$version":1},"reported":{"foo":0,"$version":2}}`).
  nlohmann::json device_view() const;

 private:
  static std::string etag_of(std::int64_t etag_counter);
  packed_view section(twin_section s) const;
  // The commit of a write, run only after every check has passed: new tags (when `tags`; empty
  // removes the member), a new desired or reported section (when `new_section`), version + 1,
  // and for a back-end write the etag too.
  void commit(const nlohmann::json* tags, twin_section s, nlohmann::json* new_section, bool back_end);

  packed_json doc_;
  std::int64_t etag_counter_ = 1;
};

}  // namespace mockhub::core
