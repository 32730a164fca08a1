#include "errors.hpp"

#include <cstddef>
#include <string>
#include <utility>

namespace mockhub::core {

namespace {
// std::runtime_error keeps a C string, so a NUL byte echoed from the input (a device id sent as
// `a%00b`) would cut the message short: it is written as the JSON escape \u0000 instead.
std::string without_nul(std::string message) {
  for (std::size_t at; (at = message.find('\0')) != std::string::npos;) message.replace(at, 1, "\\u0000");
  return message;
}
}  // namespace

hub_error::hub_error(int code, std::string_view name, std::string message)
    : std::runtime_error(without_nul(std::move(message))), code_(code), name_(name) {}

namespace errors {
namespace {
// Built by appending: GCC 12 at -O2 gives a false -Wrestrict for "'" + std::string(s) + "'".
std::string quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '\'';
  out += s;
  out += '\'';
  return out;
}
}  // namespace

hub_error generic_bad_request(std::string m) { return {400000, "GenericBadRequest", std::move(m)}; }
hub_error argument_invalid(std::string m) { return {400004, "ArgumentInvalid", std::move(m)}; }
hub_error argument_null(std::string m) { return {400005, "ArgumentNull", std::move(m)}; }
hub_error etag_does_not_match(std::string m) { return {400023, "EtagDoesNotMatch", std::move(m)}; }

hub_error iothub_unauthorized_access(std::string m) {
  return {401002, "IotHubUnauthorizedAccess", std::move(m)};
}
hub_error iothub_unauthorized(std::string m) { return {401003, "IotHubUnauthorized", std::move(m)}; }

hub_error iothub_quota_exceeded(std::string m) { return {403002, "IotHubQuotaExceeded", std::move(m)}; }
hub_error job_quota_exceeded(std::string m) { return {403003, "JobQuotaExceeded", std::move(m)}; }
hub_error device_maximum_queue_depth_exceeded(std::string_view id) {
  return {403004, "DeviceMaximumQueueDepthExceeded",
          "Device " + quoted(id) + " already has the maximum number of cloud-to-device messages queued (50)."};
}
hub_error operation_not_available_in_current_tier(std::string m) {
  return {403010, "OperationNotAvailableInCurrentTier", std::move(m)};
}
hub_error device_model_max_properties_exceeded(std::string m) {
  return {403100, "DeviceModelMaxPropertiesExceeded", std::move(m)};
}
hub_error device_maximum_inflight_method_exceeded(std::string_view id) {
  return {403800, "DeviceMaximumInflightMethodExceeded",
          "Device " + quoted(id) + " has too many direct method calls in flight."};
}

hub_error device_not_found(std::string_view id) {
  return {404001, "DeviceNotFound", "Device " + quoted(id) + " is not registered in this hub."};
}
hub_error job_not_found(std::string_view id) {
  return {404002, "JobNotFound", "Job " + quoted(id) + " does not exist."};
}
hub_error device_not_online(std::string m) { return {404103, "DeviceNotOnline", std::move(m)}; }
hub_error device_connection_closed_remotely(std::string m) {
  return {404104, "DeviceConnectionClosedRemotely", std::move(m)};
}

hub_error device_already_exists(std::string_view id) {
  return {409001, "DeviceAlreadyExists", "A device with ID " + quoted(id) + " is already registered."};
}
hub_error job_already_exists(std::string_view id) {
  return {409104, "JobAlreadyExists", "A job with ID " + quoted(id) + " already exists."};
}

hub_error precondition_failed(std::string m) { return {412001, "PreconditionFailed", std::move(m)}; }
hub_error job_run_precondition_failed(std::string m) {
  return {412003, "JobRunPreconditionFailed", std::move(m)};
}

hub_error message_too_large(std::string m) { return {413001, "MessageTooLarge", std::move(m)}; }

hub_error throttling_exception(std::string m) { return {429001, "ThrottlingException", std::move(m)}; }
hub_error throttling_max_active_job_count_exceeded(int max_active_jobs) {
  return {429004, "ThrottlingMaxActiveJobCountExceeded",
          "The hub already runs its maximum of " + std::to_string(max_active_jobs) + " active jobs."};
}

hub_error server_error(std::string m) { return {500001, "ServerError", std::move(m)}; }
hub_error service_unavailable(std::string m) { return {503001, "ServiceUnavailable", std::move(m)}; }
hub_error gateway_timeout(std::string m) { return {504101, "GatewayTimeout", std::move(m)}; }
}  // namespace errors

}  // namespace mockhub::core
