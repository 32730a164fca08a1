// The identity registry and the twins it owns (reference sections 3 and 5.1-5.2).
// One function per hub operation, named after it. Every operation validates first and changes
// nothing when it throws a hub_error.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "clock.hpp"
#include "device_identity.hpp"
#include "hub_store.hpp"
#include "id_source.hpp"
#include "string_index.hpp"
#include "twin.hpp"

namespace mockhub::core {

/// Statistics_GetDeviceStatistics.
struct device_statistics {
  std::int64_t total_device_count = 0;
  std::int64_t enabled_device_count = 0;
  std::int64_t disabled_device_count = 0;
};
void to_json(nlohmann::json& j, const device_statistics& s);

/// The result of a twin write: the twin after it, and the desired-property notification the
/// device must receive while connected (the patch as applied plus "$version"), if desired changed.
struct twin_write {
  packed_view twin;  // valid until the twin next changes
  std::optional<nlohmann::json> desired_notification;
};

class device_registry {
 public:
  /// `store` (optional) receives every identity and twin write before the operation returns.
  device_registry(clock& clk, id_source& ids, hub_store* store = nullptr) : clock_(clk), ids_(ids), store_(store) {}
  device_registry(const device_registry&) = delete;  // the index points into the map
  device_registry& operator=(const device_registry&) = delete;

  /// Puts back a stored device (at load, before any operation). Its connection state is
  /// Disconnected: no device is connected to a hub that just started.
  void restore(stored_device device);

  /// Devices_CreateOrUpdateIdentity (PUT /devices/{id}).
  /// - No If-Match: create. 409001 DeviceAlreadyExists when the id is taken.
  /// - If-Match (etag, quoted or bare, or `*`): update. 404001 when the device does not exist,
  ///   412001 PreconditionFailed on a stale etag.
  /// The body's deviceId, when given, must equal `device_id` (400004). On create, empty or absent
  /// SAS keys are generated (both, or whichever is missing), as the real hub does; on update an
  /// absent `authentication` keeps the keys and an empty key is generated anew. Keys must be base64
  /// of 16 to 64 bytes; self-signed devices need a SHA-1 or SHA-256 hex thumbprint; statusReason is
  /// at most 128 characters (all 400004). A status change stamps statusUpdatedTime. Every write
  /// gives the identity a new etag; a new identity gets a new generationId and a new twin.
  const device_identity& create_or_update_identity(std::string_view device_id, const device_identity_request& request,
                                                   std::optional<std::string_view> if_match);

  /// Devices_GetIdentity. 404001 when missing.
  const device_identity& get_identity(std::string_view device_id) const;

  /// Devices_DeleteIdentity: deletes the identity and its twin. No If-Match (or `*`) is
  /// unconditional; a stale etag gives 412001; a missing device 404001.
  void delete_identity(std::string_view device_id, std::optional<std::string_view> if_match);

  /// Devices_GetDevices: up to `top` identities in device-id order; `top` outside 1..1000 means 1000.
  std::vector<const device_identity*> get_devices(std::int64_t top) const;

  /// Statistics_GetDeviceStatistics.
  device_statistics get_device_statistics() const;
  /// Statistics_GetServiceStatistics: how many devices are connected now.
  std::int64_t connected_device_count() const;

  /// Devices_GetTwin. 404001 when missing.
  nlohmann::json get_twin(std::string_view device_id) const;
  /// Devices_UpdateTwin (PATCH /twins/{id}): merge tags and desired. 404001, 412001 on a stale If-Match.
  twin_write update_twin(std::string_view device_id, const nlohmann::json& patch, std::optional<std::string_view> if_match);
  /// Devices_ReplaceTwin (PUT /twins/{id}): replace tags and desired. 404001, 412001 on a stale If-Match.
  twin_write replace_twin(std::string_view device_id, const nlohmann::json& replacement,
                          std::optional<std::string_view> if_match);

  // --- The device path (MQTT) ---

  /// A device's twin GET: {"desired": {...}, "reported": {...}}. 404001 when missing.
  nlohmann::json get_twin_for_device(std::string_view device_id) const;
  /// A device's reported-properties PATCH. Returns the new reported $version. 404001 when missing.
  std::int64_t update_reported_properties(std::string_view device_id, const nlohmann::json& patch);
  /// The device connected or disconnected: connectionState, its update time and lastActivityTime.
  void set_connection_state(std::string_view device_id, connection_state state);
  /// The device sent or received something: lastActivityTime. False (nothing changes) for a
  /// device that is not registered.
  bool record_activity(std::string_view device_id);
  /// How many cloud-to-device messages wait for the device (cloudToDeviceMessageCount).
  void set_cloud_to_device_message_count(std::string_view device_id, std::int32_t count);

  /// The identity, or nullptr when there is none.
  const device_identity* find(std::string_view device_id) const;
  std::size_t size() const noexcept { return devices_.size(); }

  /// Visits every identity in device-id order.
  void for_each_identity(const std::function<void(const device_identity&)>& visit) const;

  /// Visits twins in ascending device-id order, strictly after `after` (empty: from the start),
  /// until `visit` returns false. Paging over it never repeats or skips a device that exists throughout.
  void scan_twins(std::string_view after,
                  const std::function<bool(std::string_view device_id, packed_view twin)>& visit) const;

 private:
  struct device_record {
    device_identity identity;
    mockhub::core::twin twin;
  };
  device_record& record(std::string_view device_id);
  const device_record& record(std::string_view device_id) const;
  device_record* find_record(std::string_view device_id);  // null when unknown
  const device_record* find_record(std::string_view device_id) const;
  void persist(const device_record& r);

  clock& clock_;
  id_source& ids_;
  hub_store* store_;
  std::map<std::string, device_record, std::less<>> devices_;  // id order, for scans and paging
  using entry = std::map<std::string, device_record, std::less<>>::value_type;
  // The same entries by id, hashed: the hub finds one device on every message it handles (map
  // nodes never move).
  string_index<entry> index_;
  // The map's entries in id order, for scans: a method job's query walks every twin, and walking
  // the tree (a cache miss per node) was half of the time a 100,000-twin job took to start (B1).
  // Rebuilt by the first scan after a device is added or removed.
  mutable std::vector<const entry*> scan_order_;
  mutable bool scan_order_valid_ = false;
};

}  // namespace mockhub::core
