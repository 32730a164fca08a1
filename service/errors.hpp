// The two ways a service call fails:
// - `iothub_error`: the hub answered with an error (HTTP status >= 300), carrying the HTTP status,
//   the IoT Hub error code (e.g. 404001) and name (e.g. "DeviceNotFound") and the hub's message;
// - `network_error`: no answer at all (cannot connect, TLS refused, timed out, connection lost).
// They are distinct types, neither derived from the other, so `catch (const iothub_error&)` never
// swallows an unreachable hub.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mockhub::service {

class iothub_error : public std::runtime_error {
 public:
  iothub_error(int http_status, int error_code, std::string error_name, std::string message,
               std::string tracking_id = {}, std::string request_id = {});

  /// The HTTP status, e.g. 404.
  int http_status() const noexcept { return http_status_; }
  /// The six-digit IoT Hub error code, e.g. 404001; 0 when the hub gave none the client knows.
  int error_code() const noexcept { return error_code_; }
  /// The IoT Hub error name, e.g. "DeviceNotFound" (the `iothub-errorcode` header); empty when none.
  const std::string& error_name() const noexcept { return error_name_; }
  /// The hub's human-readable message.
  const std::string& message() const noexcept { return message_; }
  /// The hub's tracking id (from the body's `ExceptionMessage` or `trackingId`), for support.
  const std::string& tracking_id() const noexcept { return tracking_id_; }
  /// The response's `x-ms-request-id`.
  const std::string& request_id() const noexcept { return request_id_; }

 private:
  int http_status_;
  int error_code_;
  std::string error_name_;
  std::string message_;
  std::string tracking_id_;
  std::string request_id_;
};

class network_error : public std::runtime_error {
 public:
  enum class kind {
    connect,             // no connection (refused, unreachable, name not resolved)
    connect_timeout,     // the connection was not established in time
    tls,                 // the TLS handshake failed
    certificate,         // the server's certificate is not trusted or not for this host
    ca_file,             // the CA file could not be loaded
    timeout_or_closed,   // no complete answer in time, or the connection closed
    bad_response,        // an answer the client cannot read (a success body that is not JSON)
    other,
  };

  network_error(kind k, std::string message) : std::runtime_error(std::move(message)), kind_(k) {}
  kind what_failed() const noexcept { return kind_; }

 private:
  kind kind_;
};

/// Builds the error the hub reported. Reads, in order of preference: the numeric code from the
/// body (`Message` holding JSON with `errorCode`, a legacy `Message` "ErrorCode:<Name>;<text>" with
/// an `errorCode:<number>` part, or a bare `{"errorCode":...,"message":...}`), the name from the
/// `iothub-errorcode` header or the body, and the code from the name when only the name is known.
/// `headers` are the response headers with lower-case names.
iothub_error parse_error_response(int http_status, const std::multimap<std::string, std::string>& headers,
                                  std::string_view body);

/// The error code of a known IoT Hub error name ("DeviceNotFound" -> 404001); 0 when unknown.
int error_code_for_name(std::string_view name) noexcept;

}  // namespace mockhub::service
