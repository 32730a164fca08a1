// Scheduled jobs v2 (reference sections 5.5 and 6): what to schedule, the job resource, and the
// per-device records (`SELECT * FROM devices.jobs`).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "direct_method.hpp"

namespace mockhub::service {

enum class job_type { unknown, schedule_device_method, schedule_update_twin };
/// The job's status. Note the double-L `cancelled` of the wire enum.
enum class job_status { unknown, enqueued, queued, scheduled, running, completed, failed, cancelled };
/// A device record's status. Note the single-L `canceled` of the wire enum.
enum class device_job_status { unknown, pending, scheduled, running, completed, failed, canceled };

std::string_view to_string(job_type t) noexcept;           // "scheduleDeviceMethod", "scheduleUpdateTwin", "unknown"
std::string_view to_string(job_status s) noexcept;         // wire spelling: "queued", ..., "cancelled"
std::string_view to_string(device_job_status s) noexcept;  // wire spelling: "pending", ..., "canceled"
/// Wire spellings, case-insensitively; unknown for anything else.
job_type parse_job_type(std::string_view text) noexcept;
job_status parse_job_status(std::string_view text) noexcept;
device_job_status parse_device_job_status(std::string_view text) noexcept;
/// completed, failed or cancelled: the job will not change any more.
bool is_finished(job_status s) noexcept;

using time_point = std::chrono::system_clock::time_point;

/// A job that invokes a direct method on every device `query_condition` selects.
struct method_job {
  /// 1-64 of A-Z a-z 0-9 and '-'.
  std::string job_id{};
  /// A WHERE clause without `WHERE` (`tags.building = 43`, `deviceId IN ['a','b']`), or `*`.
  std::string query_condition{};
  method_request method{};
  /// When the job starts; none: now (`"startTime": null`, as the Node SDK sends).
  std::optional<time_point> start_time{};
  /// How long the whole job may run.
  std::chrono::seconds max_execution_time{3600};
};

/// A job that applies a twin patch (`tags` and/or `properties.desired`) to every selected device.
/// The hub requires `"etag":"*"` in the patch: the library adds it.
struct twin_job {
  std::string job_id{};
  std::string query_condition{};
  /// e.g. `{"properties":{"desired":{"building":43,"floor":3}}}`
  nlohmann::json patch = nlohmann::json::object();
  std::optional<time_point> start_time{};
  std::chrono::seconds max_execution_time{3600};
};

/// `PUT /jobs/v2/{id}` bodies.
void to_json(nlohmann::json& j, const method_job& job);
void to_json(nlohmann::json& j, const twin_job& job);

/// `deviceJobStatistics`.
struct job_statistics {
  std::int64_t device_count = 0;
  std::int64_t failed_count = 0;
  std::int64_t succeeded_count = 0;
  std::int64_t running_count = 0;
  std::int64_t pending_count = 0;
  bool operator==(const job_statistics&) const = default;
};

/// The job resource (`JobResponse`). Times are the hub's ISO-8601 text; empty when absent.
struct job_response {
  std::string job_id;
  job_type type = job_type::unknown;
  job_status status = job_status::unknown;
  std::string query_condition;
  std::string created_time;
  std::string start_time;
  std::string end_time;
  std::int64_t max_execution_time_seconds = 0;
  std::optional<method_request> method;   // cloudToDeviceMethod (method jobs)
  nlohmann::json update_twin;             // updateTwin (twin jobs); null otherwise
  std::string failure_reason;
  std::string status_message;
  job_statistics statistics;
  /// The whole resource as returned.
  nlohmann::json document;

  bool finished() const noexcept { return is_finished(status); }
};

void from_json(const nlohmann::json& j, job_statistics& s);
void from_json(const nlohmann::json& j, job_response& r);

/// One device's part in a job.
struct device_job_record {
  std::string device_id;
  std::string job_id;
  job_type type = job_type::unknown;
  device_job_status status = device_job_status::unknown;
  std::string start_time;
  std::string end_time;
  std::string created_time;
  std::string last_updated_time;
  /// The device's answer (method jobs that reached the device).
  std::optional<method_response> outcome;
  /// Why the device failed, e.g. {"DeviceNotOnline", "Timed out waiting for device to connect."}.
  struct failure {
    std::string code{};
    std::string description{};
    bool operator==(const failure&) const = default;
  };
  std::optional<failure> error;
  nlohmann::json document;
};

void from_json(const nlohmann::json& j, device_job_record& r);

/// Filters of `GET /jobs/v2/query`; unset means any.
struct job_filter {
  std::optional<job_type> type{};
  std::optional<job_status> status{};
  /// `x-ms-max-item-count`; 0 lets the hub choose (100).
  int page_size = 0;
};

/// How job_client::wait_for_completion polls.
struct job_wait_options {
  /// Pause between two polls of `GET /jobs/v2/{id}`.
  std::chrono::milliseconds poll_interval = std::chrono::seconds(1);
  /// Gives up after this much real time and returns the last state seen; none: no limit.
  std::optional<std::chrono::milliseconds> timeout{};
  /// Called with every state polled, the last (finished) one included.
  std::function<void(const job_response&)> on_progress{};
  /// Waits between polls; default: sleeps `poll_interval` on the real clock. A test against a
  /// virtual-clock hub passes a function that moves the hub's clock instead.
  std::function<void(std::chrono::milliseconds)> pause{};
};

}  // namespace mockhub::service
