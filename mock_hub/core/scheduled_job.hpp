// Scheduled jobs v2 (reference sections 5.5 and 6): the wire types of a job and of its
// per-device records, and the validation of a `PUT /jobs/v2/{id}` body.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "clock.hpp"
#include "direct_methods.hpp"

namespace mockhub::core {

enum class job_type { schedule_device_method, schedule_update_twin };
/// The job resource's status: note the double-L `cancelled` of the wire enum.
enum class job_status { queued, scheduled, running, completed, failed, cancelled };
/// A device record's status: note the single-L `canceled`.
enum class device_job_status { pending, scheduled, running, completed, failed, canceled };

std::string_view to_string(job_type t) noexcept;           // "scheduleDeviceMethod" | "scheduleUpdateTwin"
std::string_view to_string(job_status s) noexcept;         // "queued" ... "cancelled"
std::string_view to_string(device_job_status s) noexcept;  // "pending" ... "canceled"
/// Case-insensitive, as SDKs send both `scheduleDeviceMethod` and `ScheduleDeviceMethod`.
std::optional<job_type> parse_job_type(std::string_view text) noexcept;
std::optional<job_status> parse_job_status(std::string_view text) noexcept;

/// A validated `JobRequest`.
struct job_request {
  std::string job_id;
  job_type type = job_type::schedule_device_method;
  std::optional<method_request> method;   // scheduleDeviceMethod
  nlohmann::json update_twin;             // scheduleUpdateTwin: {"tags":..., "properties":{"desired":...}, "etag":"*"}
  std::string query_condition;            // as given ("*" for every device)
  std::optional<time_point> start_time;   // nullopt: now
  std::int64_t max_execution_time_seconds = 3600;

  /// Reads and validates a `PUT /jobs/v2/{id}` body. `path_job_id` is the id in the URL.
  /// - jobId: 1 to 64 of A-Z a-z 0-9 and '-', equal to the path id when the body names one (400004).
  /// - type: `scheduleDeviceMethod` or `scheduleUpdateTwin`; anything else is 400000 GenericBadRequest.
  /// - cloudToDeviceMethod (method jobs) as in Devices_InvokeMethod; updateTwin (twin jobs) must carry
  ///   "etag":"*" and only tags and properties.desired, checked against the twin rules (400004).
  /// - queryCondition: required; compiled by the caller (the job engine) for syntax errors.
  /// - startTime: ISO-8601 or null; maxExecutionTimeInSeconds: a positive integer (default 3600).
  static job_request from_json(const nlohmann::json& body, std::string_view path_job_id, time_point now);
};

/// `deviceJobStatistics`.
struct device_job_statistics {
  std::int32_t device_count = 0;
  std::int32_t failed_count = 0;
  std::int32_t succeeded_count = 0;
  std::int32_t running_count = 0;
  std::int32_t pending_count = 0;
  bool operator==(const device_job_statistics&) const = default;
};
void to_json(nlohmann::json& j, const device_job_statistics& s);

/// A job and its progress; serialised, it is what `GET /jobs/v2/{id}` returns (`JobResponse`).
struct scheduled_job {
  job_request request;
  job_status status = job_status::queued;
  time_point created_time{};
  time_point start_time{};
  std::optional<time_point> end_time;
  std::string failure_reason;
  std::string status_message;
  device_job_statistics statistics;
};
void to_json(nlohmann::json& j, const scheduled_job& job);

}  // namespace mockhub::core
