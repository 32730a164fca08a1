// What the hub's adapters tell an observer about the traffic they handle: the hooks of the
// broker link (device side) and the REST server (back-end side), and the runtime's clock moves.
// Adapters hold an optional `traffic_observer*` (null: nothing is observed) and pass what they
// saw as it is; the observer (trace_recorder) decides what to keep and what to leave out (keys,
// signatures, the Authorization header).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mock_hub/core/clock.hpp"

namespace mockhub::trace {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// One HTTP request as the server received it.
struct http_request_view {
  std::string_view method;
  std::string_view path;   ///< still percent-encoded
  std::string_view query;  ///< without the `?`; empty when none
  const header_list& headers;
  std::string_view body;
  /// Received over HTTPS (the hub's two REST servers number their request ids differently).
  bool tls = false;
};

/// The response the server sent.
struct http_response_view {
  int status = 0;
  const header_list& headers;
  std::string_view body;
};

class traffic_observer {
 public:
  virtual ~traffic_observer() = default;

  // Device side (called on the hub's executor, in the order the hub handles them).
  /// `details`: what the plugin announced (api_version, client_type, model_id, clean_session).
  virtual void device_connected(std::string_view device_id, const nlohmann::json& details) = 0;
  virtual void device_disconnected(std::string_view device_id) = 0;
  virtual void device_subscribed(std::string_view device_id, std::string_view filter, bool subscribed) = 0;
  /// A publish of the device the hub handles (topic as the device sent it).
  virtual void device_published(std::string_view device_id, std::string_view topic, std::string_view payload) = 0;
  /// A message the hub sends to one device.
  virtual void hub_published(std::string_view device_id, std::string_view topic, std::string_view payload) = 0;
  /// The hub drops the device's connection.
  virtual void device_kicked(std::string_view device_id) = 0;

  // Back-end side (called on the HTTP server's threads).
  /// Returns the exchange number that pairs the response with it.
  virtual std::uint64_t http_request(const http_request_view& request) = 0;
  virtual void http_response(std::uint64_t exchange, const http_response_view& response) = 0;

  /// The virtual clock is about to move by `by` (called before timers fire).
  virtual void clock_advanced(core::duration by, core::time_point to) = 0;
};

}  // namespace mockhub::trace
