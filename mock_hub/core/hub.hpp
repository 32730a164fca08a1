// The hub core's front door for adapters: the registry and twins, shared access policies,
// device sessions, telemetry and cloud-to-device messages, wired to a device_channel so that a
// service write reaches connected devices. One function per hub operation; reads that have no
// side effects go straight to `registry()`.
//
// Single-threaded: the hub executor owns it; adapters post work to that thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "access_policies.hpp"
#include "clock.hpp"
#include "cloud_to_device_queue.hpp"
#include "device_channel.hpp"
#include "device_registry.hpp"
#include "device_sessions.hpp"
#include "direct_methods.hpp"
#include "fault_injection.hpp"
#include "hub_store.hpp"
#include "id_source.hpp"
#include "job_engine.hpp"
#include "query/compiled_query.hpp"
#include "telemetry_log.hpp"

namespace mockhub::core {

struct hub_options {
  /// The host name devices and services put in their SAS tokens' `sr`.
  std::string host_name = "mockhub.azure-devices.net";
  /// Telemetry messages kept per device (oldest dropped first).
  std::size_t telemetry_per_device = 1000;
  /// Expiry given to a cloud-to-device message that names none (the real hub's default TTL is 1 hour).
  duration cloud_to_device_ttl = std::chrono::hours(1);
  /// Scheduled jobs: concurrency (S1 by default), fan-out window, retention, optional pacing.
  job_engine_options jobs;
};

class hub : private job_device_operations {
 public:
  static constexpr std::size_t max_cloud_to_device_bytes = 64 * 1024;

  /// A hub whose state lives only in memory.
  hub(hub_options options, clock& clk, id_source& ids, device_channel& channel);
  /// A hub that rebuilds itself from `store` (devices, twins, policies, jobs and their device
  /// records, waiting cloud-to-device messages; jobs resume as job_engine::restore says) and
  /// writes every change to it before the operation returns. `store` must outlive the hub.
  /// Throws what the store throws when it cannot be read.
  hub(hub_options options, clock& clk, id_source& ids, device_channel& channel, hub_store& store);
  hub(const hub&) = delete;
  hub& operator=(const hub&) = delete;

  const hub_options& options() const noexcept { return options_; }
  clock& time() noexcept { return clock_; }
  device_registry& registry() noexcept { return registry_; }
  const device_registry& registry() const noexcept { return registry_; }
  access_policies& policies() noexcept { return policies_; }
  const access_policies& policies() const noexcept { return policies_; }
  const device_sessions& sessions() const noexcept { return sessions_; }
  telemetry_log& telemetry() noexcept { return telemetry_; }
  /// Jobs_CreateScheduledJob, Jobs_GetScheduledJob, Jobs_CancelScheduledJob, Jobs_QueryScheduledJobs.
  job_engine& jobs() noexcept { return jobs_; }
  const job_engine& jobs() const noexcept { return jobs_; }

  /// Query_GetTwins (POST /devices/query): one page of a query over `devices` or `devices.jobs`.
  /// Throws hub_error for a query the hub refuses (see query/compiled_query.hpp).
  query::query_page query(std::string_view text, const query::page_request& page = {}) const;
  /// The same page as the REST body sends it (items as JSON text, written from the packed twins).
  query::query_page_text query_text(std::string_view text, const query::page_request& page = {}) const;

  // --- Service operations with effects beyond the registry ---

  /// Devices_CreateOrUpdateIdentity (see device_registry). The channel learns the new credentials;
  /// a connected device that gets disabled is disconnected.
  const device_identity& create_or_update_identity(std::string_view device_id, const device_identity_request& request,
                                                   std::optional<std::string_view> if_match);
  /// Devices_DeleteIdentity: the identity, twin, session, telemetry and queued messages go; a
  /// connected device is disconnected.
  void delete_identity(std::string_view device_id, std::optional<std::string_view> if_match);
  /// Devices_UpdateTwin; a desired change is pushed to the device when connected and subscribed.
  twin_write update_twin(std::string_view device_id, const nlohmann::json& patch, std::optional<std::string_view> if_match);
  /// Devices_ReplaceTwin; likewise.
  twin_write replace_twin(std::string_view device_id, const nlohmann::json& replacement,
                          std::optional<std::string_view> if_match);
  /// Sends a cloud-to-device message: 404001 for an unknown device, 413001 over 64 KB, 403004 when
  /// 50 are already waiting. Delivered at once to a connected device subscribed to its devicebound
  /// topic, otherwise queued until it is (or until the message expires). Returns its message id
  /// (the one given, or a generated one).
  std::string send_cloud_to_device_message(std::string_view device_id, cloud_to_device_message message);
  /// CloudToDeviceMessages_PurgeCloudToDeviceMessageQueue. 404001 for an unknown device.
  std::size_t purge_cloud_to_device_message_queue(std::string_view device_id);
  /// mockhub's reset (`POST /_mockhub/reset`, no IoT Hub operation): deletes every device as
  /// Devices_DeleteIdentity does (twin, session, telemetry, queued messages; connected devices
  /// are disconnected), then every job and job record. Policies stay; the clock does not move.
  void reset();
  /// mockhub's fault injection: ends the device's connection now, as a network drop would (the
  /// device may reconnect). 404001 for an unknown device; nothing happens when it is offline.
  /// Sent even when the hub believes it offline (its view may lag the broker's).
  void disconnect_device(std::string_view device_id);
  /// Devices_InvokeMethod: 404001 (thrown) for an unknown device; everything else arrives through
  /// `done` (see direct_methods), exactly once, possibly before this returns.
  void invoke_device_method(std::string_view device_id, method_request request, method_callback done);

  // --- The device path (called by the broker link) ---

  /// A connection was accepted by the broker. Unknown devices (deleted meanwhile) are ignored.
  void device_connected(std::string_view device_id, const connection_info& info);
  /// A connection ended; ignored unless it is the device's current one.
  void device_disconnected(std::string_view device_id, std::uint64_t generation);
  /// A subscription was accepted; subscribing to cloud-to-device delivers what is waiting.
  void device_subscribed(std::string_view device_id, std::uint64_t generation, device_subscription s);
  void device_unsubscribed(std::string_view device_id, std::uint64_t generation, device_subscription s);
  /// After the link (re)connected to the broker: the broker's view of who is connected now.
  void connections_resynced(const std::vector<std::pair<std::string, device_session>>& live);

  /// A device's twin GET: {"desired": ..., "reported": ...}. 404001 when the identity is gone.
  nlohmann::json device_get_twin(std::string_view device_id);
  /// A device's reported PATCH; returns the new reported $version. Twin rules as in `twin`.
  std::int64_t device_update_reported(std::string_view device_id, const nlohmann::json& patch);
  /// A device's telemetry message: stamped, numbered, logged and handed to listeners. A message
  /// carrying the real hub's fault-injection properties (fault_injection.hpp) is logged too and
  /// starts that fault on the device's connection; a new fault request replaces a pending one.
  std::uint64_t device_sent_telemetry(device_to_cloud_message message);
  /// The fault injection in force for a device (delay passed, duration not yet), if any.
  std::optional<fault_action> active_fault(std::string_view device_id) const;
  /// A device's answer to a direct method (`$iothub/methods/res/{status}/?$rid=`). Late or
  /// unknown answers are ignored (false).
  bool device_method_response(std::string_view device_id, std::string_view request_id, int status,
                              std::string_view payload);

 private:
  void deliver_cloud_to_device(std::string_view device_id);
  void refresh_cloud_to_device_count(std::string_view device_id);
  void push_desired(std::string_view device_id, const std::optional<nlohmann::json>& notification);
  void start_fault(const std::string& device_id, const fault_request& request);
  void begin_fault(const std::string& device_id);
  void end_fault(const std::string& device_id);
  void cancel_fault(std::string_view device_id);
  /// Tells the channel the device's credentials: disabled while an auth-error fault refuses it.
  void announce_identity(std::string_view device_id, const device_identity& identity);
  void load();

  // job_device_operations
  const query::document_source& twins() const override { return *twins_; }
  void update_twin_for_job(std::string_view device_id, const nlohmann::json& patch) override;
  void invoke_method_for_job(std::string_view device_id, std::shared_ptr<const prepared_method_request> request,
                             method_callback done) override;
  void flush_method_requests() override { channel_.flush(); }

  class twin_source;

  hub_options options_;
  clock& clock_;
  id_source& ids_;
  device_channel& channel_;
  std::unique_ptr<hub_store> owned_store_;
  hub_store& store_;
  device_registry registry_;
  access_policies policies_;
  device_sessions sessions_;
  telemetry_log telemetry_;
  cloud_to_device_queue cloud_to_device_;
  direct_methods methods_;
  const query::document_source& source_of(const query::compiled_query& q) const;
  std::unique_ptr<query::document_source> twins_;
  job_engine jobs_;
  std::unordered_map<std::string, clock::timer_id> expiry_timers_;
  struct fault_state {
    fault_request request;
    clock::timer_id timer = 0;  ///< the start, then the end
    bool active = false;
  };
  std::unordered_map<std::string, fault_state> faults_;
};

}  // namespace mockhub::core
