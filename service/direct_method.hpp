// Direct methods (reference section 4): what to invoke on a device and what it answered.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace mockhub::service {

struct method_request {
  std::string method_name{};
  /// Any JSON value; null sends `"payload": null`.
  nlohmann::json payload = nullptr;
  /// How long the device has to answer once it got the request: 5-300 s.
  std::chrono::seconds response_timeout{30};
  /// How long the hub waits for an offline device to connect: 0-300 s; 0 fails at once (404103).
  std::chrono::seconds connect_timeout{0};
};

/// The `CloudToDeviceMethod` body, as the Node SDK sends it (methodName, payload,
/// responseTimeoutInSeconds, connectTimeoutInSeconds).
void to_json(nlohmann::json& j, const method_request& r);
void from_json(const nlohmann::json& j, method_request& r);

/// The device's answer. `status` is the device's own status (a device may answer 500 with HTTP 200).
struct method_response {
  int status = 0;
  nlohmann::json payload;
  bool operator==(const method_response&) const = default;
};

void from_json(const nlohmann::json& j, method_response& r);

}  // namespace mockhub::service
