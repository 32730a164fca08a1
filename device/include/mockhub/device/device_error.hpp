// The one error type of the device library: what failed, and for hub answers the status and
// the hub's error body.
#pragma once

#include <stdexcept>
#include <string>

namespace mockhub::device {

enum class errc {
  timeout,           ///< no answer within operation_timeout (or no CONNACK within connect_timeout)
  hub_status,        ///< the hub answered with a status >= 300 (see status() and body())
  unauthorized,      ///< the hub refused the credentials (CONNACK 4/5); not retried
  retry_expired,     ///< the retry policy gave up
  closed,            ///< the client was closed (or destroyed) before the operation completed
  invalid_argument,  ///< the request cannot be sent (e.g. a patch that is not a JSON object)
};
const char* to_string(errc code) noexcept;

class device_error : public std::runtime_error {
 public:
  device_error(errc code, const std::string& message, int status = 0, std::string body = {})
      : std::runtime_error(message), code_(code), status_(status), body_(std::move(body)) {}
  errc code() const noexcept { return code_; }
  /// The hub's status for hub_status (e.g. 400); 0 otherwise.
  int status() const noexcept { return status_; }
  /// The hub's response body for hub_status (its JSON error), else empty.
  const std::string& body() const noexcept { return body_; }

 private:
  errc code_;
  int status_;
  std::string body_;
};

}  // namespace mockhub::device
