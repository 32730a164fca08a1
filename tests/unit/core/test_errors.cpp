#include <catch2/catch.hpp>

#include "mock_hub/core/errors.hpp"

using namespace mockhub::core;

TEST_CASE("Every error carries its IoT Hub code, name, HTTP status and a message naming the input", "[core][errors]") {
  auto [e, code, name, status] = GENERATE(table<hub_error, int, const char*, int>({
      {errors::generic_bad_request("x"), 400000, "GenericBadRequest", 400},
      {errors::argument_invalid("x"), 400004, "ArgumentInvalid", 400},
      {errors::argument_null("x"), 400005, "ArgumentNull", 400},
      {errors::etag_does_not_match("x"), 400023, "EtagDoesNotMatch", 400},
      {errors::iothub_unauthorized_access("x"), 401002, "IotHubUnauthorizedAccess", 401},
      {errors::iothub_unauthorized("x"), 401003, "IotHubUnauthorized", 401},
      {errors::iothub_quota_exceeded("x"), 403002, "IotHubQuotaExceeded", 403},
      {errors::job_quota_exceeded("x"), 403003, "JobQuotaExceeded", 403},
      {errors::device_maximum_queue_depth_exceeded("d1"), 403004, "DeviceMaximumQueueDepthExceeded", 403},
      {errors::operation_not_available_in_current_tier("x"), 403010, "OperationNotAvailableInCurrentTier", 403},
      {errors::device_model_max_properties_exceeded("x"), 403100, "DeviceModelMaxPropertiesExceeded", 403},
      {errors::device_maximum_inflight_method_exceeded("d1"), 403800, "DeviceMaximumInflightMethodExceeded", 403},
      {errors::device_not_found("d1"), 404001, "DeviceNotFound", 404},
      {errors::job_not_found("j1"), 404002, "JobNotFound", 404},
      {errors::device_not_online("x"), 404103, "DeviceNotOnline", 404},
      {errors::device_connection_closed_remotely("x"), 404104, "DeviceConnectionClosedRemotely", 404},
      {errors::device_already_exists("d1"), 409001, "DeviceAlreadyExists", 409},
      {errors::job_already_exists("j1"), 409104, "JobAlreadyExists", 409},
      {errors::precondition_failed("x"), 412001, "PreconditionFailed", 412},
      {errors::job_run_precondition_failed("x"), 412003, "JobRunPreconditionFailed", 412},
      {errors::message_too_large("x"), 413001, "MessageTooLarge", 413},
      {errors::throttling_exception("x"), 429001, "ThrottlingException", 429},
      {errors::throttling_max_active_job_count_exceeded(1), 429004, "ThrottlingMaxActiveJobCountExceeded", 429},
      {errors::server_error("x"), 500001, "ServerError", 500},
      {errors::service_unavailable("x"), 503001, "ServiceUnavailable", 503},
      {errors::gateway_timeout("x"), 504101, "GatewayTimeout", 504},
  }));
  CAPTURE(name);
  CHECK(e.code() == code);
  CHECK(e.name() == name);
  CHECK(e.http_status() == status);
  CHECK_FALSE(e.message().empty());
}

TEST_CASE("Identifier-based errors name the identifier", "[core][errors]") {
  CHECK(errors::device_not_found("door-7").message() == "Device 'door-7' is not registered in this hub.");
  CHECK(errors::device_already_exists("door-7").message() == "A device with ID 'door-7' is already registered.");
  CHECK(errors::job_not_found("job-1").message() == "Job 'job-1' does not exist.");
  CHECK(errors::throttling_max_active_job_count_exceeded(5).message() ==
        "The hub already runs its maximum of 5 active jobs.");
}

TEST_CASE("A hub error is thrown and caught as one type", "[core][errors]") {
  try {
    throw errors::device_not_online("Timed out waiting for device to connect.");
  } catch (const hub_error& e) {
    CHECK(e.code() == 404103);
    CHECK(std::string(e.what()) == "Timed out waiting for device to connect.");
  }
}

TEST_CASE("A NUL byte in an error message is escaped, so the message is not cut short", "[core][errors][hostile]") {
  const auto e = errors::argument_invalid(std::string("Device id 'a\0b' is not valid.", 29));
  CHECK(std::string(e.what()) == "Device id 'a\\u0000b' is not valid.");
  CHECK(e.message() == "Device id 'a\\u0000b' is not valid.");
}
