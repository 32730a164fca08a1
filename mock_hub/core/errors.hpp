// The one error type of the hub core. Every failure a hub operation can report is a
// `hub_error` carrying the IoT Hub numeric error code (e.g. 404103), its name
// (e.g. "DeviceNotOnline"), the HTTP status (the code's first three digits, as on the
// real hub) and a message that names the offending input. Only adapters (REST, MQTT)
// put it on the wire; the core just throws it.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace mockhub::core {

class hub_error : public std::runtime_error {
 public:
  hub_error(int code, std::string_view name, std::string message);

  /// The six-digit IoT Hub error code, e.g. 404001.
  int code() const noexcept { return code_; }
  /// The IoT Hub error name, e.g. "DeviceNotFound" (the `iothub-errorcode` header value).
  const std::string& name() const noexcept { return name_; }
  /// The HTTP status: the code's first three digits (404001 -> 404).
  int http_status() const noexcept { return code_ / 1000; }
  /// The human-readable message, naming the offending input.
  std::string_view message() const noexcept { return what(); }

 private:
  int code_;
  std::string name_;
};

/// Factories, one per IoT Hub error, named after it. The argument is the message
/// (or the identifier the message is built around).
namespace errors {
// 400
hub_error generic_bad_request(std::string message);                 // 400000
hub_error argument_invalid(std::string message);                    // 400004
hub_error argument_null(std::string message);                       // 400005
hub_error etag_does_not_match(std::string message);                 // 400023
// 401
hub_error iothub_unauthorized_access(std::string message);          // 401002
hub_error iothub_unauthorized(std::string message);                 // 401003
// 403
hub_error iothub_quota_exceeded(std::string message);               // 403002
hub_error job_quota_exceeded(std::string message);                  // 403003
hub_error device_maximum_queue_depth_exceeded(std::string_view device_id);  // 403004
hub_error operation_not_available_in_current_tier(std::string message);     // 403010
hub_error device_model_max_properties_exceeded(std::string message);        // 403100
hub_error device_maximum_inflight_method_exceeded(std::string_view device_id);  // 403800
// 404
hub_error device_not_found(std::string_view device_id);             // 404001
hub_error job_not_found(std::string_view job_id);                   // 404002
hub_error device_not_online(std::string message);                   // 404103
hub_error device_connection_closed_remotely(std::string message);   // 404104
// 409
hub_error device_already_exists(std::string_view device_id);        // 409001
hub_error job_already_exists(std::string_view job_id);              // 409104
// 412
hub_error precondition_failed(std::string message);                 // 412001
hub_error job_run_precondition_failed(std::string message);         // 412003
// 413
hub_error message_too_large(std::string message);                   // 413001
// 429
hub_error throttling_exception(std::string message);                // 429001
hub_error throttling_max_active_job_count_exceeded(int max_active_jobs);  // 429004
// 5xx
hub_error server_error(std::string message);                        // 500001
hub_error service_unavailable(std::string message);                 // 503001
hub_error gateway_timeout(std::string message);                     // 504101
}  // namespace errors

}  // namespace mockhub::core
